/**
 * Training workflow in AWS, evaluate step: the candidate's files come out of the training job's
 * archive into a scratch directory, and the same evaluation the local workflow runs
 * (src/ml/workflow/evaluate-step.ts: a backtest of the held-out window against the champion) decides.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Panel } from '../../backtest/types';
import type { TrainingEvaluation } from '../../contract/training';
import { evaluateStep, type EvaluateDeps, type GateConfig } from '../workflow/evaluate-step';
import { fetchModelArtifacts } from './model-artifacts';
import { MANIFEST_FILE } from '../../contract/ml';

export interface EvaluateCandidateInput {
  readonly modelName: string;
  readonly jobName: string;
  /** `s3://.../model.tar.gz` of the training job. */
  readonly modelArtifacts: string;
}

export interface EvaluateCandidateDeps extends EvaluateDeps {
  readonly s3: Pick<S3Client, 'send'>;
  /** Bars of the model's universe, covering its held-out window. */
  readonly panel: (manifest: { readonly modelName?: string }) => Promise<Panel>;
  readonly gate: Partial<GateConfig>;
}

/** Evaluates the candidate; what the state machine's gate reads (`passed`) and why. */
export async function evaluateCandidate(
  deps: EvaluateCandidateDeps,
  input: EvaluateCandidateInput,
): Promise<TrainingEvaluation> {
  const files = await fetchModelArtifacts(deps.s3, input.modelArtifacts);
  const dir = mkdtempSync(path.join(os.tmpdir(), `${input.jobName}-`));
  try {
    mkdirSync(dir, { recursive: true });
    for (const [name, bytes] of Object.entries(files)) writeFileSync(path.join(dir, name), bytes);
    const manifest = JSON.parse(Buffer.from(files[MANIFEST_FILE]).toString('utf8')) as {
      modelName?: string;
    };
    const report = await evaluateStep(deps, {
      modelDir: dir,
      panel: await deps.panel(manifest),
      gate: deps.gate,
    });
    return {
      passed: report.gate.passed,
      reasons: report.gate.reasons,
      ic: report.ic,
      candidateSharpe: report.candidate.sharpe,
      ...(report.champion
        ? { championVersion: report.champion.version, championSharpe: report.champion.sharpe }
        : {}),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
