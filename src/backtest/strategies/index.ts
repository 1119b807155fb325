/** The strategy registry and parameter parsing shared by the CLI, the sweep and the ECS task. */
import { describeZodIssues, InputError } from '../../errors';
import { bondCarry } from './bond-carry';
import { commodityCarry } from './commodity-carry';
import { dualMomentum } from './dual-momentum';
import { fxCarryStrategy } from './fx-carry';
import { globalMacro } from './global-macro';
import { multiFactor } from './multi-factor';
import { meanReversion } from './mean-reversion';
import { mlSignal } from './ml-signal';
import { pairs } from './pairs';
import { smaCross } from './sma-cross';
import { tsMomentum } from './ts-momentum';
import type { ParamValue, Strategy } from './types';
import { xsMomentum } from './xs-momentum';

export type { ParamValue, Strategy } from './types';

const registry: Readonly<Record<string, Strategy>> = Object.fromEntries(
  [
    smaCross,
    tsMomentum,
    xsMomentum,
    meanReversion,
    pairs,
    mlSignal,
    fxCarryStrategy,
    commodityCarry,
    bondCarry,
    multiFactor,
    dualMomentum,
    globalMacro,
  ].map((s) => [s.name, s as unknown as Strategy]),
);

/** Names accepted by `--strategy`. */
export const strategyNames: readonly string[] = Object.keys(registry);

/** Validated parameters (defaults applied) of some strategy. */
export type StrategyParams = Readonly<Record<string, ParamValue>>;

export function getStrategy(name: string): Strategy {
  const s = Object.hasOwn(registry, name) ? registry[name] : undefined;
  if (!s)
    throw new InputError(
      `strategy: unknown strategy "${name}" (known: ${strategyNames.join(', ')})`,
      'strategy',
    );
  return s;
}

/** "20" -> 20, "true" -> true; anything else stays a string for the schema to reject. */
function coerce(v: string | number | boolean): unknown {
  if (typeof v !== 'string') return v;
  const s = v.trim();
  if (s === 'true') return true;
  if (s === 'false') return false;
  if (s !== '' && Number.isFinite(Number(s))) return Number(s);
  return v;
}

/** Validates a strategy's parameters; throws InputError naming `param.<name>` and the problem. */
export function parseStrategyParams(
  strategy: string,
  raw: Readonly<Record<string, string | number | boolean>>,
): StrategyParams {
  const s = getStrategy(strategy);
  const known = Object.keys(s.paramDocs);
  const unknown = Object.keys(raw).filter((k) => !known.includes(k));
  if (unknown.length > 0) {
    throw new InputError(
      `param.${unknown[0]}: unknown parameter for strategy ${strategy} (known: ${known.join(', ')})`,
      `param.${unknown[0]}`,
    );
  }
  const input = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, coerce(v)]));
  const parsed = s.schema.safeParse(input);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new InputError(
      describeZodIssues(parsed.error.issues, 'param'),
      ['param', ...first.path.map(String)].join('.'),
    );
  }
  return parsed.data;
}

/** Parses `k=v` strings (the CLI's repeated `--param`). */
export function parseParamPairs(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new InputError(`param: expected name=value, got "${p}"`, 'param');
    const k = p.slice(0, eq).trim();
    if (Object.hasOwn(out, k)) throw new InputError(`param.${k}: given more than once`, `param.${k}`);
    out[k] = p.slice(eq + 1);
  }
  return out;
}

/** Runs the strategy's asynchronous prepare step, if it has one (loads models before `positions`). */
export async function prepareStrategy(strategy: string, params: StrategyParams): Promise<void> {
  await getStrategy(strategy).prepare?.(params as Record<string, ParamValue>);
}
