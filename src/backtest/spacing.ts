/**
 * Bar spacing, detected from the bar dates, so that annualised figures (CAGR, Sharpe, volatility,
 * turnover) fit the data: 252 periods a year for daily bars, 52 weekly, 12 monthly, 4 quarterly,
 * 1 yearly, and for intraday bars the number of such bars in a year of 252 regular 6.5-hour sessions.
 */

export type SpacingKind = 'intraday' | 'daily' | 'weekly' | 'monthly' | 'quarterly' | 'yearly';

export interface BarSpacing {
  readonly kind: SpacingKind;
  /** Typical minutes between bars, for intraday bars. */
  readonly minutes?: number;
  readonly periodsPerYear: number;
  /** Share of the gaps between bars that fit the detected spacing (1 when every gap does). */
  readonly regularity: number;
}

const DAY = 86_400_000;
/** Minutes in a year of regular US equity sessions: 252 days of 6.5 hours. */
const SESSION_MINUTES_PER_YEAR = 252 * 390;
/** Below this share of fitting gaps the spacing is reported as irregular. */
export const REGULAR_SHARE = 0.8;

/**
 * Each kind with the gaps (in days) that count as regular for it: a daily series skips weekends
 * and holidays, a monthly one is 28-31 days apart, and so on.
 */
const KINDS: ReadonlyArray<{ kind: SpacingKind; periodsPerYear: number; min: number; max: number }> = [
  { kind: 'daily', periodsPerYear: 252, min: 0.5, max: 5 },
  { kind: 'weekly', periodsPerYear: 52, min: 5, max: 10 },
  { kind: 'monthly', periodsPerYear: 12, min: 25, max: 35 },
  { kind: 'quarterly', periodsPerYear: 4, min: 80, max: 100 },
  { kind: 'yearly', periodsPerYear: 1, min: 350, max: 380 },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Detects the spacing of strictly increasing bar dates (ISO dates or timestamps, UTC). */
export function detectBarSpacing(dates: readonly string[]): BarSpacing {
  const gaps: number[] = [];
  let prev = Date.parse(dates[0]);
  for (let t = 1; t < dates.length; t++) {
    const ms = Date.parse(dates[t]);
    gaps.push(ms - prev);
    prev = ms;
  }
  if (gaps.length === 0 || gaps.some((g) => !(g > 0))) {
    return { kind: 'daily', periodsPerYear: 252, regularity: 0 };
  }
  const typical = median(gaps);
  if (typical < 0.5 * DAY) {
    const minutes = Math.max(1, Math.round(typical / 60_000));
    // Gaps within a session are the bar length; overnight and weekend gaps do not count against it.
    const fitting = gaps.filter((g) => Math.abs(g / 60_000 - minutes) <= 0.5 || g >= 12 * 3_600_000);
    return {
      kind: 'intraday',
      minutes,
      periodsPerYear: Math.max(1, Math.round(SESSION_MINUTES_PER_YEAR / minutes)),
      regularity: fitting.length / gaps.length,
    };
  }
  const days = typical / DAY;
  const match =
    KINDS.find((k) => days >= k.min && days < k.max) ??
    KINDS.reduce((best, k) =>
      Math.abs(Math.log(days / ((k.min + k.max) / 2))) <
      Math.abs(Math.log(days / ((best.min + best.max) / 2)))
        ? k
        : best,
    );
  const fitting = gaps.filter((g) => g / DAY >= match.min && g / DAY < match.max);
  return { kind: match.kind, periodsPerYear: match.periodsPerYear, regularity: fitting.length / gaps.length };
}

/** One line for people: "monthly (12 periods a year)", "intraday 5m (19656 periods a year)". */
export function describeSpacing(s: BarSpacing): string {
  const name = s.kind === 'intraday' ? `intraday ${s.minutes}m` : s.kind;
  return `${name} (${s.periodsPerYear} periods a year)`;
}
