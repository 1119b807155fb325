/**
 * The training workflow's steps, each a function with typed input and output and its clients
 * passed in: the local run (./local.ts) chains them, and the training state machine's local run
 * maps its tasks to them.
 */
export {
  featuresFromLake,
  featuresFromPanel,
  parseBarsSource,
  type BarsSource,
  type FeaturesStepOutput,
} from './features-step';
export {
  runTrainingStep,
  trainingEnv,
  TrainingFailedError,
  trainingScript,
  type TrainStepInput,
  type TrainStepOutput,
} from './train-step';
export {
  evaluateStep,
  writeEvaluation,
  DEFAULT_GATE,
  type EvaluateInput,
  type EvaluationReport,
  type GateConfig,
} from './evaluate-step';
export { registerStep, autoApproveFromEnv, type RegisterStepInput } from './register-step';
export { jobPaths, newJobName, type JobPaths } from './job';
export { checkPython, pythonOf, PythonMissingError, PYTHON_ENV, APT_HINT, type PythonCheck } from './python';
export {
  runLocalTraining,
  type LocalTrainingDeps,
  type LocalTrainingOptions,
  type LocalTrainingResult,
} from './local';
