/**
 * Token balances are decimal strings (they may exceed 2^53 and carry 18 decimals). They are
 * parsed strictly and compared exactly with bignumber.js.
 */
import BigNumberBase from 'bignumber.js';

/** A private BigNumber that never switches to exponential notation and never rounds sums. */
export const Decimal = BigNumberBase.clone({ EXPONENTIAL_AT: 1e9, DECIMAL_PLACES: 100 });
export type Decimal = InstanceType<typeof Decimal>;

/**
 * Plain decimal notation only: no sign, exponent, hex, spaces or leading zeros; at most 78 integer
 * digits (a uint256) and 78 fractional digits.
 */
const DECIMAL = /^(?:0|[1-9][0-9]{0,77})(?:\.[0-9]{1,78})?$/;

/** True when `value` is a decimal string this library accepts as a balance. */
export function isDecimalString(value: unknown): value is string {
  return typeof value === 'string' && DECIMAL.test(value);
}

/** Parses a strict decimal string, or returns undefined. */
export function parseDecimal(value: unknown): Decimal | undefined {
  return isDecimalString(value) ? new Decimal(value) : undefined;
}
