/** The contract every strategy module implements. */
import type * as z from 'zod';
import type { Panel } from '../types';

export type ParamValue = number | boolean;

export interface Strategy<P extends Record<string, ParamValue> = Record<string, ParamValue>> {
  /** CLI name, e.g. `sma-cross`. */
  readonly name: string;
  /** One line for `--help` and reports. */
  readonly description: string;
  /** `single`: one instrument; `multi`: a universe (a panel of several symbols). */
  readonly kind: 'single' | 'multi';
  /** Fewest symbols the strategy needs (1 for single-asset strategies). */
  readonly minSymbols: number;
  /** Most symbols it accepts (pairs: 2). */
  readonly maxSymbols: number;
  /** Each accepted parameter with a short description; any other key is rejected. */
  readonly paramDocs: Readonly<Record<string, string>>;
  /** Validates parameters and applies defaults. */
  readonly schema: z.ZodType<P>;
  /**
   * Target positions (signed fractions of equity) per symbol and bar: `w[a][t]` is decided at the
   * close of bar t from data up to and including bar t only, and held from t to t+1.
   */
  positions(panel: Panel, params: P): Float64Array[];
  /**
   * Optional asynchronous step before `positions` (e.g. loading a model or resolving a registry
   * version); callers that can await run it through `prepareStrategy`.
   */
  prepare?(params: P): Promise<void>;
}
