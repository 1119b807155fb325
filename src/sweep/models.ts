/**
 * Sweeps over models: `--grid model=ml-signal@1,ml-signal@2,other@prod` (or a fixed
 * `--param model=...`) backtests each registry version, so the best model is chosen by a backtest.
 * An environment's version (`@prod`) is pinned to its number before the sweep is planned: the
 * sweep id, the result rows and a resumed run then name the version that was actually tested.
 */
import { parseModelRef } from '../ml/inference/resolver';
import { versionOf } from '../ml/registry/resolver';
import type { ModelRegistry } from '../ml/registry/types';
import { parseGridArg } from './grid';
import type { SweepRequest } from './request';

/** Registry versions named by the request (grid values and fixed parameters). */
export function requestModelRefs(request: SweepRequest): string[] {
  const values = [
    ...request.grid.flatMap((g) => parseGridArg(g).values),
    ...Object.values(request.params ?? {}),
  ];
  return [...new Set(values.filter((v): v is string => typeof v === 'string' && !!parseModelRef(v)))];
}

/** The request with every `name@env` replaced by `name@<that environment's current version>`. */
export async function pinModelVersions(
  request: SweepRequest,
  registry: () => Promise<Pick<ModelRegistry, 'current'>>,
): Promise<SweepRequest> {
  const pin = async (v: string, field: string): Promise<string> => {
    const ref = parseModelRef(v);
    if (!ref || /^\d+$/.test(ref.version)) return v;
    return `${ref.name}@${await versionOf(await registry(), ref, field)}`;
  };
  const grid: string[] = [];
  for (const g of request.grid) {
    const axis = parseGridArg(g);
    if (!axis.values.some((v) => typeof v === 'string')) grid.push(g);
    else {
      const values: string[] = [];
      for (const v of axis.values)
        values.push(typeof v === 'string' ? await pin(v, `grid.${axis.name}`) : String(v));
      grid.push(`${axis.name}=${values.join(',')}`);
    }
  }
  const params: Record<string, number | boolean | string> = {};
  for (const [k, v] of Object.entries(request.params ?? {}))
    params[k] = typeof v === 'string' ? await pin(v, `param.${k}`) : v;
  return { ...request, grid, ...(request.params ? { params } : {}) };
}
