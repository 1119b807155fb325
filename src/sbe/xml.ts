/**
 * A minimal XML reader for SBE schemas: elements, attributes, text, comments, CDATA and the five
 * predefined entities. Schemas are small, trusted-format files, so no DTDs or namespaces processing:
 * a prefix like `ns2:` or `sbe:` is stripped from element names.
 */
import { InputError } from '../errors';

export interface XmlElement {
  readonly name: string;
  readonly attrs: Readonly<Record<string, string>>;
  readonly children: XmlElement[];
  text: string;
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (m, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(parseInt(e.slice(1), 10));
    return ENTITIES[e] ?? m;
  });
}

function localName(qname: string): string {
  const i = qname.indexOf(':');
  return i >= 0 ? qname.slice(i + 1) : qname;
}

/** Parses an XML document and returns its root element; throws InputError with a line number. */
export function parseXml(xml: string, source = 'schema'): XmlElement {
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let i = 0;
  const lineAt = (pos: number): number => xml.slice(0, pos).split('\n').length;
  const fail = (pos: number, problem: string): never => {
    throw new InputError(`${source}:${lineAt(pos)}: ${problem}`, source);
  };
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const textEnd = lt < 0 ? xml.length : lt;
    if (textEnd > i && stack.length > 0)
      stack[stack.length - 1].text += decodeEntities(xml.slice(i, textEnd));
    if (lt < 0) break;
    if (xml.startsWith('<!--', lt)) {
      const end = xml.indexOf('-->', lt + 4);
      if (end < 0) fail(lt, 'unterminated comment');
      i = end + 3;
    } else if (xml.startsWith('<![CDATA[', lt)) {
      const end = xml.indexOf(']]>', lt + 9);
      if (end < 0) fail(lt, 'unterminated CDATA');
      if (stack.length > 0) stack[stack.length - 1].text += xml.slice(lt + 9, end);
      i = end + 3;
    } else if (xml.startsWith('<?', lt) || xml.startsWith('<!', lt)) {
      const end = xml.indexOf('>', lt);
      if (end < 0) fail(lt, 'unterminated declaration');
      i = end + 1;
    } else if (xml.startsWith('</', lt)) {
      const end = xml.indexOf('>', lt);
      if (end < 0) fail(lt, 'unterminated end tag');
      const name = localName(xml.slice(lt + 2, end).trim());
      const open = stack.pop();
      if (!open || open.name !== name)
        fail(lt, `end tag </${name}> does not match <${open?.name ?? '(none)'}>`);
      i = end + 1;
    } else {
      const tagRe = /<([A-Za-z_][\w:.-]*)((?:\s+[A-Za-z_][\w:.-]*\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/y;
      tagRe.lastIndex = lt;
      const m = tagRe.exec(xml);
      if (!m) fail(lt, 'malformed start tag');
      const [whole, qname, attrText, selfClose] = m as RegExpExecArray;
      const attrs: Record<string, string> = {};
      const attrRe = /([A-Za-z_][\w:.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
      for (let a = attrRe.exec(attrText); a; a = attrRe.exec(attrText)) {
        attrs[localName(a[1])] = decodeEntities(a[2] ?? a[3] ?? '');
      }
      const el: XmlElement = { name: localName(qname), attrs, children: [], text: '' };
      if (stack.length > 0) stack[stack.length - 1].children.push(el);
      else if (root) fail(lt, 'more than one root element');
      else root = el;
      if (!selfClose) stack.push(el);
      i = lt + whole.length;
    }
  }
  if (stack.length > 0) fail(xml.length, `unclosed element <${stack[stack.length - 1].name}>`);
  if (!root) throw new InputError(`${source}: no root element`, source);
  return root;
}
