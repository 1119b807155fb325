const SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/** An exact decimal: mantissa × 10^exponent, as SBE price and quantity composites carry it. */
export class Decimal {
  constructor(
    readonly mantissa: bigint,
    readonly exponent: number,
  ) {}

  /** Exact decimal text without trailing zeros, e.g. 4275.25 or -0.000000001. */
  toString(): string {
    const neg = this.mantissa < 0n;
    const digits = (neg ? -this.mantissa : this.mantissa).toString();
    let out: string;
    if (this.exponent >= 0) {
      out = this.mantissa === 0n ? '0' : digits + '0'.repeat(this.exponent);
    } else {
      const scale = -this.exponent;
      const padded = digits.padStart(scale + 1, '0');
      const int = padded.slice(0, padded.length - scale);
      const frac = padded.slice(padded.length - scale).replace(/0+$/, '');
      out = frac.length > 0 ? `${int}.${frac}` : int;
    }
    return neg && out !== '0' ? `-${out}` : out;
  }

  /** The nearest double (parsed from the exact text, so 50000e-9 gives 0.00005, not 0.0000499...). */
  toNumber(): number {
    // Division of two exact doubles is correctly rounded, so this equals parsing the exact text.
    const m = this.mantissa;
    if (this.exponent < 0 && this.exponent >= -22 && m <= SAFE && m >= -SAFE)
      return Number(m) / POW10[-this.exponent];
    return Number(this.toString());
  }

  toJSON(): number {
    return this.toNumber();
  }

  /**
   * Converts a number, decimal string, bigint or Decimal to this exponent exactly; throws RangeError
   * when the value has more decimals than the exponent allows.
   */
  static at(value: Decimal | number | string | bigint, exponent: number): Decimal {
    if (value instanceof Decimal) {
      if (value.exponent === exponent) return value;
      return Decimal.at(value.toString(), exponent);
    }
    if (typeof value === 'bigint') return Decimal.at(value.toString(), exponent);
    let text = typeof value === 'number' ? numberText(value) : value.trim();
    const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
    if (!m || (m[2] === '' && (m[3] ?? '') === '')) throw new RangeError(`"${text}" is not a decimal number`);
    const sign = m[1] === '-' ? -1n : 1n;
    let int = m[2];
    let frac = m[3] ?? '';
    const e = Number(m[4] ?? '0');
    // Shift the decimal point by the literal's exponent, then to the target exponent.
    const shift = e - exponent;
    if (shift >= 0) {
      const moved = frac.padEnd(shift, '0');
      int = int + moved.slice(0, shift);
      frac = moved.slice(shift);
    } else {
      const k = -shift;
      const padded = int.padStart(k, '0');
      frac = padded.slice(padded.length - k) + frac;
      int = padded.slice(0, padded.length - k);
    }
    if (/[1-9]/.test(frac))
      throw new RangeError(`${text} has more decimals than exponent ${exponent} allows`);
    text = int === '' ? '0' : int;
    return new Decimal(sign * BigInt(text), exponent);
  }
}

function numberText(v: number): string {
  if (!Number.isFinite(v)) throw new RangeError(`${v} is not a finite number`);
  return String(v);
}
