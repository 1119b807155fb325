/**
 * `ml-signal`: positions from an ONNX model's score over the feature set (src/ml/signal.ts):
 * long when the score beats the threshold, optionally short below it, or sized by the score.
 * Loading the model (and resolving a registry version) is the asynchronous `prepare` step.
 */
import * as z from 'zod';
import { mlSignalPositions, prepareMlSignal, type MlSignalParams } from '../../ml/signal';
import type { Panel } from '../types';
import type { ParamValue, Strategy } from './types';

export const mlSignalSchema = z.object({
  model: z.string().min(1),
  threshold: z.number().min(0).max(1e6).default(0),
  short: z.boolean().default(false),
  scale: z.number().min(0).max(1e6).default(0),
});

type Loose = Record<string, ParamValue>;

/** Registered like the other strategies; its `model` parameter is text (a path or name@version). */
export const mlSignal: Strategy<Loose> = {
  name: 'ml-signal',
  description: 'Long when an ONNX model scores above the threshold (short=true: short below -threshold)',
  kind: 'multi',
  minSymbols: 1,
  maxSymbols: 100_000,
  paramDocs: {
    model: 'model directory (model.onnx + manifest.json) or registry version name@version',
    threshold:
      'edge over the score centre (0 for returns, 0.5 for probabilities) needed to trade (default 0)',
    short: 'go short when the score is below centre - threshold (default false)',
    scale: 'size = (score - centre) / scale clipped to [-1, 1] instead of all-in (default 0: off)',
  },
  schema: mlSignalSchema as unknown as z.ZodType<Loose>,
  positions(panel: Panel, p: Loose) {
    return mlSignalPositions(panel, p as unknown as MlSignalParams);
  },
  prepare(p: Loose) {
    return prepareMlSignal(p as unknown as MlSignalParams);
  },
};
