import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { createPacketRing, PacketRingReader, PacketRingWriter } from '../../../src/feed/packet-ring';
import { mulberry32 } from '../../../src/synthetic/random';

describe('PacketRing', () => {
  it('delivers records in order with their kind, value and bytes, across many wrap-arounds', () => {
    const buffers = createPacketRing(4096);
    const w = new PacketRingWriter(buffers);
    const r = new PacketRingReader(buffers);
    const rand = mulberry32(7);
    const expected: Array<{ kind: number; value: number; payload: Buffer }> = [];
    let written = 0;
    let rejected = 0;
    let read = 0;
    for (let step = 0; step < 50_000; step++) {
      if (rand() < 0.55) {
        const len = Math.floor(rand() * 700);
        const payload = Buffer.alloc(len);
        for (let i = 0; i < len; i++) payload[i] = Math.floor(rand() * 256);
        const rec = { kind: 1 + Math.floor(rand() * 5), value: rand() * 1e12, payload };
        if (w.write(rec.kind, rec.value, payload)) {
          expected.push(rec);
          written++;
        } else {
          rejected++;
          // Refused only when the ring really holds too much to fit it.
          expect(w.pendingBytes + 16 + len).toBeGreaterThan(4096 - 16 - 720);
        }
      } else {
        const got = r.read();
        const want = expected.shift();
        if (!want) expect(got).toBeNull();
        else {
          expect(got).not.toBeNull();
          expect(got!.kind).toBe(want.kind);
          expect(got!.value).toBe(want.value);
          expect(got!.payload.equals(want.payload)).toBe(true);
          read++;
        }
      }
    }
    // Exercised both the full and the wrap-around paths.
    expect(rejected).toBeGreaterThan(100);
    expect(written).toBeGreaterThan(10_000);
    expect(read).toBeGreaterThan(10_000);
  });

  it('a full ring refuses without writing anything, and takes records again once read', () => {
    const buffers = createPacketRing(1024);
    const w = new PacketRingWriter(buffers);
    const r = new PacketRingReader(buffers);
    let n = 0;
    while (w.write(1, n, Buffer.alloc(100, n))) n++;
    // 128 bytes a record: 7 fit, as the writer keeps 16 of the 1024 bytes free.
    expect(n).toBe(7);
    expect(w.write(2, -1, Buffer.alloc(100))).toBe(false);
    const first = r.read();
    expect(first?.value).toBe(0);
    expect(w.write(3, 99, Buffer.from('after'))).toBe(true);
    const values: number[] = [];
    for (let rec = r.read(); rec; rec = r.read()) values.push(rec.value);
    expect(values).toEqual([1, 2, 3, 4, 5, 6, 99]);
    expect(w.pendingBytes).toBe(0);
  });

  it('payloads read out are copies: rewriting the ring does not change them', () => {
    const buffers = createPacketRing(1024);
    const w = new PacketRingWriter(buffers);
    const r = new PacketRingReader(buffers);
    w.write(1, 0, Buffer.from('first packet'));
    const rec = r.read()!;
    for (let i = 0; i < 20; i++) {
      w.write(1, i, Buffer.alloc(200, 0xff));
      r.read();
    }
    expect(rec.payload.toString()).toBe('first packet');
  });

  it('rejects bad arguments by name', () => {
    expect(() => createPacketRing(10)).toThrow(/ring capacity: expected 1 KiB/);
    const w = new PacketRingWriter(createPacketRing(1024));
    expect(() => w.write(0, 0)).toThrow(/ring record kind/);
    expect(w.write(1, 0, Buffer.alloc(2000))).toBe(false); // larger than the ring: refused, never written
  });

  it('waitSync() returns at once when a record is pending', () => {
    const buffers = createPacketRing(1024);
    new PacketRingWriter(buffers).write(3, 9);
    const r = new PacketRingReader(buffers);
    r.waitSync(60_000); // would block the test for a minute if it waited for a signal
    expect(r.read()?.value).toBe(9);
  });

  it('waitSync() blocks until another thread writes, and is woken by that write', async () => {
    const ring = createPacketRing(1024);
    const r = new PacketRingReader(ring);
    const worker = new Worker(new URL('../../helpers/ts-worker-boot.mjs', import.meta.url), {
      workerData: { ring, delayMs: 300, entry: new URL('./ring-writer-worker.ts', import.meta.url).href },
    });
    try {
      await once(worker, 'online');
      const timeoutMs = 30_000;
      const started = performance.now();
      r.waitSync(timeoutMs);
      const waited = performance.now() - started;
      const rec = r.read();
      expect(rec).toMatchObject({ kind: 7, value: 42 });
      expect(rec?.payload.toString()).toBe('woken');
      // Woken by the writer's signal, not by the timeout.
      expect(waited).toBeLessThan(timeoutMs);
    } finally {
      await worker.terminate();
    }
  });
});
