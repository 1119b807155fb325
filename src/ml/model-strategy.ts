/**
 * Model strategies for the strategy runner and the evaluation step: a registered model version
 * (its model.onnx and manifest) bound to the `ml-signal` strategy.
 */
import type { Runtime } from '../aws/clients';
import type { ModelStrategyFactory } from '../strategy-runner/runner';

export function modelStrategyFor(_runtime: Runtime): ModelStrategyFactory {
  return async (strategy) => {
    throw new Error(`strategy ${strategy}: the ONNX model runtime is not part of this build`);
  };
}
