/** Timestamp conversions for vendor messages: RFC 3339 with nanoseconds, milliseconds, bigint ns. */

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/** RFC 3339 (`2021-02-22T15:51:45.335689322Z`) to ns since epoch, exactly; undefined if malformed. */
export function rfc3339ToNs(s: string): bigint | undefined {
  const m = RFC3339.exec(s);
  if (!m) return undefined;
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  if (Number.isNaN(ms) || +m[2] < 1 || +m[2] > 12 || +m[3] > 31 || +m[4] > 23 || +m[5] > 59 || +m[6] > 60)
    return undefined;
  const frac = m[7] === undefined ? 0n : BigInt(m[7].padEnd(9, '0'));
  let off = 0;
  if (m[8] !== 'Z') {
    const sign = m[8][0] === '-' ? -1 : 1;
    off = sign * (+m[8].slice(1, 3) * 60 + +m[8].slice(4, 6)) * 60_000;
  }
  return BigInt(ms - off) * 1_000_000n + frac;
}

/** ns since epoch to RFC 3339 with nine fraction digits (UTC). */
export function nsToRfc3339(ns: bigint): string {
  const ms = ns / 1_000_000n;
  const iso = new Date(Number(ms)).toISOString(); // ...SS.mmmZ
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return `${iso.slice(0, 19)}.${frac}Z`;
}

/**
 * The wall clock in ns since epoch: the process's start time (`performance.timeOrigin`, sub-ms) plus
 * the monotonic clock. Accurate to about a millisecond against Date.now(), so clock skew below that
 * is not measurable.
 */
const originNs = BigInt(Math.round(performance.timeOrigin * 1000)) * 1000n;
export function nowNs(): bigint {
  return originNs + BigInt(Math.round(performance.now() * 1e6));
}
