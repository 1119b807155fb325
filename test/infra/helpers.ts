/**
 * Shared helpers for infrastructure tests (every area's stack tests use these).
 *
 *   const stage = synthStage(dev);                  // built once per test file and config
 *   const t = template(stage.dataLake);             // Template, cached per stack
 *   expect(nagViolations(stage.dataLake)).toEqual([]);
 *
 * The app gets the feature flags from cdk.json, exactly as `cdk synth` does. cdk-nag runs through
 * `validateScope` (cdk-nag 3: annotation-based checks see nothing).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Validations } from 'aws-cdk-lib';
import type { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';
import type { NagPack } from 'cdk-nag';
import { expect } from 'vitest';
import type { EnvironmentConfig } from '../../lib/config';
import { cdkJsonContext, createApp } from '../../lib/app';
import type { QuantApp } from '../../lib/app';
import type { QuantStage } from '../../lib/quant-stage';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export { cdkJsonContext };

/**
 * Context that skips asset bundling (esbuild for every Lambda of every stack): templates are the same
 * except for asset hashes, which tests must not assert on. `cdk synth` in CI still bundles everything.
 */
export const SKIP_BUNDLING: Readonly<Record<string, unknown>> = { 'aws:cdk:bundling-stacks': [] };

/** An app as `cdk synth` builds it, nag off (tests call `nagViolations` explicitly), bundling skipped. */
export function testApp(
  configs: readonly EnvironmentConfig[],
  context: Record<string, unknown> = {},
): QuantApp {
  return createApp(configs, { context: { ...SKIP_BUNDLING, ...context }, nag: false });
}

const stages = new Map<string, QuantStage>();
let stagesOf: string | undefined;

/** The whole stage of one environment, built once per test file (per config name). */
export function synthStage(config: EnvironmentConfig): QuantStage {
  // Test files share this module when a worker runs several (vitest.config.ts: no isolation for
  // infra), and some add probe stacks to their stage: each file gets stages of its own.
  const file = expect.getState().testPath;
  if (file !== stagesOf) {
    stages.clear();
    stagesOf = file;
  }
  let stage = stages.get(config.name);
  if (!stage) {
    stage = testApp([config]).stages[config.name];
    stages.set(config.name, stage);
  }
  return stage;
}

const templates = new WeakMap<Stack, Template>();

/** The synthesized template of a stack, cached. */
export function template(stack: Stack): Template {
  let t = templates.get(stack);
  if (!t) {
    t = Template.fromStack(stack);
    templates.set(stack, t);
  }
  return t;
}

export interface NagFinding {
  readonly rule: string;
  readonly path: string;
  readonly description: string;
}

/** The cdk-nag packs the app validates with (lib/app.ts), by rule-id prefix. */
export type PackName = 'AwsSolutions' | 'NIST.800.53.R5';

function newPack(pack: PackName, scope: IConstruct): NagPack {
  return pack === 'AwsSolutions' ? new AwsSolutionsChecks(scope) : new NIST80053R5Checks(scope);
}

/** Unacknowledged cdk-nag findings of one pack (AwsSolutions by default) in `scope`, one line per (rule, construct). */
export function nagViolations(scope: IConstruct, pack: PackName = 'AwsSolutions'): NagFinding[] {
  const report = newPack(pack, scope).validateScope(scope);
  return report.violations.flatMap((v) =>
    v.violatingResources.map((r) => ({
      rule: v.ruleName,
      path: r.constructPath ?? '(unknown)',
      description: v.description.split('\n')[0] ?? '',
    })),
  );
}

/** Every resource of a type in a template, as [logicalId, resource] pairs. */
export function resourcesOfType(
  t: Template,
  type: string,
): [string, { Properties?: Record<string, unknown>; [k: string]: unknown }][] {
  return Object.entries(t.findResources(type)) as [string, { Properties?: Record<string, unknown> }][];
}

export interface Acknowledgement {
  readonly rule: string;
  readonly path: string;
  readonly reason: string;
}

/** Every cdk-nag acknowledgement of one pack (AwsSolutions by default) recorded on constructs in `scope`. */
export function nagAcknowledgements(scope: IConstruct, pack: PackName = 'AwsSolutions'): Acknowledgement[] {
  const out: Acknowledgement[] = [];
  for (const c of scope.node.findAll()) {
    for (const entry of c.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY || !entry.data) continue;
      for (const [key, reason] of Object.entries(entry.data as Record<string, string>)) {
        // Stored as `Annotation::<rule>` (the prefix's case varies across aws-cdk-lib versions).
        const rule = key.replace(/^annotation::/i, '');
        if (rule.startsWith(`${pack}-`)) out.push({ rule, path: c.node.path, reason });
      }
    }
  }
  return out;
}

/** Every finding of one pack in `scope` as if nothing were acknowledged. */
function rawFindings(scope: IConstruct, pack: PackName): { rule: string; path: string }[] {
  const p = newPack(pack, scope);
  (p as unknown as { isAcknowledged: () => boolean }).isAcknowledged = () => false;
  return p
    .validateScope(scope)
    .violations.flatMap((v) =>
      v.violatingResources.map((r) => ({ rule: v.ruleName, path: r.constructPath ?? '' })),
    );
}

const covers = (a: Acknowledgement, f: { rule: string; path: string }) =>
  f.rule === a.rule && (f.path === a.path || f.path.startsWith(`${a.path}/`));

/**
 * Acknowledgements that acknowledge nothing: no finding of that rule exists on the construct or below
 * it, even with every acknowledgement ignored. They mislead readers about what was accepted and why.
 * Synthesize first (`template(stack)`), so acknowledgements added while validating are recorded.
 */
export function staleAcknowledgements(scope: IConstruct, pack: PackName = 'AwsSolutions'): Acknowledgement[] {
  const raw = rawFindings(scope, pack);
  return nagAcknowledgements(scope, pack).filter((a) => !raw.some((f) => covers(a, f)));
}

/**
 * Findings acknowledged more than once (on the resource and on an ancestor, say): one of the reasons
 * is redundant, and the two may disagree. One line per finding: `rule path`.
 */
export function doubleAcknowledgements(scope: IConstruct, pack: PackName = 'AwsSolutions'): string[] {
  const acks = nagAcknowledgements(scope, pack);
  return rawFindings(scope, pack)
    .filter((f) => acks.filter((a) => covers(a, f)).length > 1)
    .map((f) => `${f.rule} ${f.path}`);
}
