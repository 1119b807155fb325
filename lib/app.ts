import { readFileSync } from 'node:fs';
import path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import type { AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';
import { ConfigError } from './config/errors';
import type { EnvironmentConfig } from './config/types';
import { QuantStage } from './quant-stage';
import { packageRoot } from '../src/package-root';

export interface QuantApp {
  readonly app: App;
  /** One stage per environment, by environment name. */
  readonly stages: Readonly<Record<string, QuantStage>>;
}

export interface CreateAppProps extends AppProps {
  /**
   * Run the cdk-nag AwsSolutions and NIST 800-53 R5 checks at synth (unacknowledged findings fail it).
   * @default true
   */
  readonly nag?: boolean;
}

/**
 * The `context` block of cdk.json (feature flags). Always applied, so an app built in a test behaves
 * exactly like the one `cdk synth` builds (the CLI's own context still wins).
 */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(path.join(packageRoot(), 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  return cdkJson.context ?? {};
}

/** Context flag that lets a non-prod environment's data go with its stacks (QuantStageProps.allowDestroy). */
export const ALLOW_DESTROY_CONTEXT = 'quant:allowDestroy';

/** A boolean context flag: `-c name=true` arrives as a string, cdk.json may hold a boolean. */
function contextFlag(app: App, name: string): boolean {
  const value: unknown = app.node.tryGetContext(name);
  if (value === undefined || value === false || value === 'false') return false;
  if (value === true || value === 'true') return true;
  throw new ConfigError(`context ${name}: expected true or false, got ${JSON.stringify(value)}`);
}

/**
 * Builds the CDK app: one `QuantStage` per environment, cdk-nag AwsSolutions and NIST 800-53 R5 as
 * validation plugins.
 * `configs` may be a function of the app, to choose environments from its context (`-c env=NAME`).
 */
export function createApp(
  configs: readonly EnvironmentConfig[] | ((app: App) => readonly EnvironmentConfig[]),
  props: CreateAppProps = {},
): QuantApp {
  const { nag = true, context, ...appProps } = props;
  const app = new App({ ...appProps, context: { ...cdkJsonContext(), ...context } });
  if (nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new NIST80053R5Checks(app));
  const allowDestroy = contextFlag(app, ALLOW_DESTROY_CONTEXT);
  const selected = typeof configs === 'function' ? configs(app) : configs;
  if (selected.length === 0) throw new Error('createApp: no environment to build');
  const stages: Record<string, QuantStage> = {};
  for (const config of selected) {
    if (stages[config.name]) throw new Error(`createApp: environment "${config.name}" given twice`);
    stages[config.name] = new QuantStage(app, config.name, { config, allowDestroy });
  }
  return { app, stages };
}
