import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { InputError } from '../../errors';
import { SbeCodec } from '../../sbe/codec';
import { loadSchema } from '../../sbe/schema';
import { decodeCapture, newDecodeStats, totalErrors } from '../../feed/decode';
import { messageJsonLine } from '../../feed/jsonl';
import { formatTable } from '../output';

interface DecodeOptions {
  schema: string;
  pcap: string;
  jsonl?: boolean;
}

function readCapture(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new InputError(`--pcap: cannot read ${file}: ${(err as Error).message}`, 'pcap');
  }
}

/** Writes to stdout in large chunks, waiting for drain so big captures do not buffer in memory. */
async function writeOut(chunk: string): Promise<void> {
  if (!process.stdout.write(chunk))
    await new Promise<void>((resolve) => process.stdout.once('drain', () => resolve()));
}

/** `quant feed ...`: the CME MDP 3.0 feed handler tools. */
export function registerFeed(program: Command): void {
  const feed = program.command('feed').description('CME MDP 3.0 feed handler: decode captures');
  feed
    .command('decode')
    .description('decode the SBE messages of a pcap capture (UDP MDP packets or TCP recovery 0xCAFE frames)')
    .requiredOption('--schema <xml>', 'the exchange SBE schema (templates_FixBinary.xml)')
    .requiredOption('--pcap <file>', 'a classic pcap capture')
    .option('--jsonl', 'one JSON object per message on stdout (otherwise a per-template summary)')
    .action(async (opts: DecodeOptions) => {
      const codec = new SbeCodec(loadSchema(opts.schema));
      const capture = readCapture(opts.pcap);
      const stats = newDecodeStats();
      const perTemplate = new Map<string, number>();
      let pending = '';
      for (const row of decodeCapture(codec, capture, stats, opts.pcap)) {
        if (opts.jsonl) {
          pending += messageJsonLine(row.packet, row.seq, row.sendingTime, row.message) + '\n';
          if (pending.length > 1 << 16) {
            await writeOut(pending);
            pending = '';
          }
        } else {
          const key = `${row.message.templateId} ${row.message.name}`;
          perTemplate.set(key, (perTemplate.get(key) ?? 0) + 1);
        }
      }
      if (pending) await writeOut(pending);
      const errors = totalErrors(stats);
      const errText =
        errors === 0
          ? 'no errors'
          : `${errors} skipped: ${Object.entries(stats.errors)
              .map(([k, v]) => `${k}=${v}`)
              .join(' ')}`;
      const summary = `${stats.records} records, ${stats.udpPackets} UDP packets, ${stats.tcpSegments} TCP segments, ${stats.decoded}/${stats.messages} messages decoded, ${errText}`;
      if (opts.jsonl) {
        process.stderr.write(`${summary}\n`);
      } else {
        const rows = [...perTemplate].map(([template, messages]) => ({ template, messages }));
        if (rows.length > 0) console.log(formatTable(rows));
        console.log(summary);
      }
    });
}
