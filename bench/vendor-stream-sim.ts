/**
 * Child process of bench/vendor-stream.bench.ts: the vendor simulator, apart from the adapter's
 * process so its CPU is not counted as the adapter's. IPC: sends {port}; on {blast, frames} sends
 * the frames as fast as the client reads them; on {pace, perSecond, seconds} sends at that rate.
 */
import { VendorSimulator } from '../src/vendor-stream/simulator';

const vendor = (process.argv[2] ?? 'polygon') as 'polygon' | 'alpaca';
const sim = await VendorSimulator.start({ vendor, frameSize: 50, record: false });
process.send?.({ port: sim.port });
process.on('message', (m: { blast?: number; pace?: number; seconds?: number; stop?: boolean }) => {
  void (async () => {
    if (m.blast !== undefined) {
      const sent = await sim.blast(m.blast);
      process.send?.({ sent });
    } else if (m.pace !== undefined) {
      // Frames of 50 every `tick` ms so that perSecond events leave per second.
      const frames = Math.round((m.pace * (m.seconds ?? 5)) / 50);
      const gapMs = (50 / m.pace) * 1000;
      const t0 = performance.now();
      let sent = 0;
      for (let f = 0; f < frames; f++) {
        const due = t0 + f * gapMs;
        const wait = due - performance.now();
        if (wait > 1) await new Promise((r) => setTimeout(r, wait));
        sent += await sim.blast(1);
      }
      process.send?.({ sent });
    } else if (m.stop) {
      await sim.stop();
      process.exit(0);
    }
  })();
});
