/** The decoder fuzz (test/unit/feed/decoder-fuzz.ts) seeded with CME's two real captures. */
import { readFileSync } from 'node:fs';
import { readPcap } from '../../../src/feed/pcap';
import { SbeCodec } from '../../../src/sbe/codec';
import { loadSchema } from '../../../src/sbe/schema';
import { describeDecoderFuzz } from '../../unit/feed/decoder-fuzz';
import { CAPTURE_V12_TCP, CAPTURE_V9, SCHEMA_V13 } from '../cme-data';

describeDecoderFuzz('real captures', new SbeCodec(loadSchema(SCHEMA_V13)), {
  udp: [...readPcap(readFileSync(CAPTURE_V9))][0].data.subarray(42),
  tcp: [...readPcap(readFileSync(CAPTURE_V12_TCP))][0].data.subarray(54),
  pcaps: [readFileSync(CAPTURE_V9), readFileSync(CAPTURE_V12_TCP)],
});
