/**
 * Promotions: which strategy, parameters and model each environment trades, one document per
 * environment in the models bucket (`promotions/<env>.json`, written conditionally) with its
 * history. `quant strategy promote` writes it (with an audit event); the strategy runner reads it
 * on every bar.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { DEFAULT_MODEL_NAME, ENVIRONMENTS, promotionKey, type Environment } from '../contract/models';
import { getStrategy, parseStrategyParams, type ParamValue } from '../backtest/strategies';
import { InputError } from '../errors';
import { auditEvent, type AuditSink } from '../trading/audit';
import { readJson, updateJson } from '../ml/registry/s3-index';
import type { ModelRegistry } from '../ml/registry/types';

/** Strategies that trade a registered model (their promotion needs `--model`). */
export const MODEL_STRATEGIES: ReadonlySet<string> = new Set([DEFAULT_MODEL_NAME]);

export const promotionSchema = z.object({
  env: z.enum(ENVIRONMENTS),
  strategy: z.string().min(1),
  params: z.record(z.string(), z.union([z.number(), z.boolean()])),
  /** The model and the version current for the environment when promoted. */
  model: z.object({ name: z.string().min(1), version: z.number().int().positive() }).optional(),
  promotedAt: z.string(),
  promotedBy: z.string(),
  revision: z.number().int().positive(),
});
export type Promotion = z.infer<typeof promotionSchema>;

interface PromotionDoc {
  readonly current: Promotion;
  /** Earlier promotions, oldest first. */
  readonly history: readonly Promotion[];
}

export interface PromotionStore {
  get(env: Environment): Promise<Promotion | undefined>;
}

export class S3PromotionStore implements PromotionStore {
  constructor(
    readonly s3: S3Client,
    readonly bucket: string,
  ) {}

  async get(env: Environment): Promise<Promotion | undefined> {
    const doc = await readJson<PromotionDoc>(this.s3, this.bucket, promotionKey(env));
    if (!doc) return undefined;
    const r = promotionSchema.safeParse(doc.value.current);
    if (!r.success) throw new Error(`s3://${this.bucket}/${promotionKey(env)}: not a promotion document`);
    return r.data;
  }

  /** Records `p` as the environment's promotion; returns the one it replaces. */
  put(p: Omit<Promotion, 'revision'>): Promise<{ promotion: Promotion; previous?: Promotion }> {
    return updateJson<PromotionDoc, { promotion: Promotion; previous?: Promotion }>(
      this.s3,
      this.bucket,
      promotionKey(p.env),
      (cur) => {
        const promotion: Promotion = { ...p, revision: (cur?.current.revision ?? 0) + 1 };
        const next: PromotionDoc = {
          current: promotion,
          history: cur ? [...cur.history, cur.current] : [],
        };
        return { next, result: { promotion, previous: cur?.current } };
      },
    );
  }
}

export interface PromoteInput {
  readonly env: Environment;
  readonly strategy: string;
  readonly params?: Readonly<Record<string, string | number | boolean>>;
  /** Model name and version (model strategies only). */
  readonly model?: { readonly modelName: string; readonly version: number };
  readonly actor: string;
}

export interface PromoteDeps {
  readonly store: S3PromotionStore;
  readonly registry: ModelRegistry;
  readonly audit: AuditSink;
  /** @default Date.now */
  readonly now?: () => number;
}

/**
 * Validates and records a promotion: the strategy exists and its parameters are valid; a model
 * strategy names a version that is the environment's current approved one (approval is its own
 * step: `quant model approve`). An audit event `promotion` records who, what and what it replaced.
 */
export async function promoteStrategy(deps: PromoteDeps, input: PromoteInput) {
  const now = deps.now ?? Date.now;
  getStrategy(input.strategy);
  let params: Record<string, ParamValue>;
  let model: Promotion['model'];
  if (MODEL_STRATEGIES.has(input.strategy)) {
    if (!input.model)
      throw new InputError(
        `--model: strategy ${input.strategy} trades a model: give --model name@version`,
        '--model',
      );
    const { modelName, version } = input.model;
    if (input.params && Object.hasOwn(input.params, 'model'))
      throw new InputError('param.model: give the model with --model name@version', 'param.model');
    // Validated with the model reference in place; stored without it (the runner supplies the
    // environment's current approved version).
    const { model: _ref, ...rest } = parseStrategyParams(input.strategy, {
      ...input.params,
      model: `${modelName}@${version}`,
    }) as Record<string, ParamValue | string>;
    params = rest as Record<string, ParamValue>;
    const v = await deps.registry.get(modelName, version);
    const current = await deps.registry.current(modelName, input.env);
    if (v.status !== 'Approved' || current !== version)
      throw new InputError(
        `--model: ${modelName}@${version} is ${v.status}${current === undefined ? `, and no version is approved for ${input.env}` : `, and ${input.env} has version ${current} approved`}: run quant model approve ${modelName}@${version} --env ${input.env} first`,
        '--model',
      );
    model = { name: modelName, version };
  } else {
    if (input.model)
      throw new InputError(
        `--model: strategy ${input.strategy} is rule-based and trades no model`,
        '--model',
      );
    params = { ...parseStrategyParams(input.strategy, input.params ?? {}) };
  }
  const { promotion, previous } = await deps.store.put({
    env: input.env,
    strategy: input.strategy,
    params: { ...params },
    ...(model ? { model } : {}),
    promotedAt: new Date(now()).toISOString(),
    promotedBy: input.actor,
  });
  await deps.audit.put([
    auditEvent(
      'promotion',
      { account: input.env, strategy: input.strategy },
      {
        env: input.env,
        actor: input.actor,
        params: promotion.params,
        model: promotion.model,
        revision: promotion.revision,
        previous: previous
          ? {
              strategy: previous.strategy,
              params: previous.params,
              model: previous.model,
              revision: previous.revision,
            }
          : null,
      },
      now(),
    ),
  ]);
  return { promotion, previous };
}
