// The decoder worker's entry in the build, dist/feed-decoder-worker.js (the feed handler's own
// bundle calls runDecoderWorker from its entry instead).
import { runDecoderWorker } from './decoder-worker';

runDecoderWorker();
