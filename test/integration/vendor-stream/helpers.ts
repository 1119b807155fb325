/** Shared set-up of the vendor-stream tests: a local cloud (Kinesis, S3) and one stream per test. */
import { CreateStreamCommand, DescribeStreamCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import type { MarketEvent } from '../../../src/market-data';
import type { SimEvent } from '../../../src/vendor-stream/simulator';

let n = 0;
export async function freshStream(kinesis: KinesisClient, prefix: string): Promise<string> {
  const name = `${prefix}-${process.pid}-${n++}`;
  await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: 2 }));
  for (;;) {
    const d = await kinesis.send(new DescribeStreamCommand({ StreamName: name }));
    if (d.StreamDescription?.StreamStatus === 'ACTIVE') return name;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A tick's identity and content, the same for a landed event and a simulator event. */
export function tickKey(e: MarketEvent | SimEvent): string {
  if ('type' in e) {
    return e.type === 'trade'
      ? `${e.symbol}|T|${e.exchangeTs}|${e.price}|${e.size}`
      : e.type === 'quote'
        ? `${e.symbol}|Q|${e.exchangeTs}|${e.bid}|${e.bidSize}|${e.ask}|${e.askSize}`
        : 'book';
  }
  return e.kind === 'trade'
    ? `${e.symbol}|T|${e.tsNs}|${e.price}|${e.size}`
    : `${e.symbol}|Q|${e.tsNs}|${e.bid}|${e.bidSize}|${e.ask}|${e.askSize}`;
}

export async function until(cond: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
