// A worker for packet-ring.test.ts: writes one record to the ring it is given, after a delay.
import { workerData } from 'node:worker_threads';
import { PacketRingWriter, type PacketRingBuffers } from '../../../src/feed/packet-ring';

const { ring, delayMs } = workerData as { ring: PacketRingBuffers; delayMs: number };
setTimeout(() => new PacketRingWriter(ring).write(7, 42, Buffer.from('woken')), delayMs);
