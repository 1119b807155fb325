export { Decimal } from './decimal';
export { SbeCodec, SbeError, type DecodedMessage, type MessageHeader, type SbeErrorCode } from './codec';
export {
  loadSchema,
  parseSchema,
  type Schema,
  type MessageDef,
  type GroupDef,
  type FieldDef,
  type TypeDef,
} from './schema';
