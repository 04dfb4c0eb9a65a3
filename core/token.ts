/**
 * The native token IOST: 21,000,000,000 IOST fixed at genesis, 8 decimals (as go-iost), so amounts are
 * integers of the smallest unit and the whole supply (2.1e18) fits an unsigned 64-bit integer.
 * Allocation in basis points of the total: 40% private sale, 35% foundation, 12.5% community incentives,
 * 10% team, 2.5% early investors and advisors.
 */
import { IosnetError } from './errors.js';

export const IOST_DECIMALS = 8;
export const IOST_UNIT = 100_000_000n;
export const TOTAL_SUPPLY_IOST = 21_000_000_000n;
export const TOTAL_SUPPLY = TOTAL_SUPPLY_IOST * IOST_UNIT;

export const AllocationBucket = {
  privateSale: 0,
  foundation: 1,
  communityIncentives: 2,
  team: 3,
  earlyInvestorsAdvisors: 4,
} as const;
export type AllocationBucketName = keyof typeof AllocationBucket;

export const ALLOCATION_BASIS_POINTS: Readonly<Record<AllocationBucketName, bigint>> = {
  privateSale: 4000n,
  foundation: 3500n,
  communityIncentives: 1250n,
  team: 1000n,
  earlyInvestorsAdvisors: 250n,
};

/** Amount (smallest units) each bucket must hold at genesis; exact: every share divides the total. */
export function bucketAmount(bucket: AllocationBucketName): bigint {
  return (TOTAL_SUPPLY * ALLOCATION_BASIS_POINTS[bucket]) / 10_000n;
}

/** Everything an account holds that counts toward the supply. */
export interface Holdings {
  readonly balance: bigint;
  readonly staked: bigint;
  readonly unbonding: bigint;
  readonly locked: bigint;
}

export function holdingsTotal(h: Holdings): bigint {
  return h.balance + h.staked + h.unbonding + h.locked;
}

export function sumSupply(accounts: Iterable<Holdings>): bigint {
  let sum = 0n;
  for (const a of accounts) sum += holdingsTotal(a);
  return sum;
}

/** The total-supply invariant every test can call: throws SUPPLY_INVARIANT_VIOLATED with both numbers. */
export function assertTotalSupply(accounts: Iterable<Holdings>, expected: bigint = TOTAL_SUPPLY): void {
  const got = sumSupply(accounts);
  if (got !== expected) {
    throw new IosnetError('SUPPLY_INVARIANT_VIOLATED', `total supply is ${got}, expected ${expected}`, {
      expected: expected.toString(),
      got: got.toString(),
    });
  }
}

/** "1234.5" -> 123450000000n; at most 8 decimals; no sign, no exponent. */
export function parseIost(text: string): bigint {
  const m = /^(\d{1,11})(?:\.(\d{1,8}))?$/.exec(text.trim());
  if (!m) throw new IosnetError('AMOUNT_INVALID', `not an IOST amount: ${JSON.stringify(text)}`, { text });
  const whole = BigInt(m[1]!);
  const frac = BigInt((m[2] ?? '').padEnd(IOST_DECIMALS, '0'));
  const amount = whole * IOST_UNIT + frac;
  if (amount > TOTAL_SUPPLY)
    throw new IosnetError('AMOUNT_INVALID', 'amount exceeds the total supply', { text });
  return amount;
}

/** 123450000000n -> "1234.5" */
export function formatIost(amount: bigint): string {
  if (amount < 0n) return `-${formatIost(-amount)}`;
  const whole = amount / IOST_UNIT;
  const frac = (amount % IOST_UNIT).toString().padStart(IOST_DECIMALS, '0').replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : whole.toString();
}
