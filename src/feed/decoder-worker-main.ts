// The decoder worker's entry under tsx (the bundled handler's entry calls runDecoderWorker itself).
import { runDecoderWorker } from './decoder-worker';

runDecoderWorker();
