/**
 * Weighted share allocation: the bound of gateway/consensus/beacon/allocation.ts, checked by brute force
 * over every subset of members, plus the counterexamples to the rule docs/consensus.md §3.2 states.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArgumentError } from '../../../../core/errors.js';
import {
  allocateShares,
  hamilton,
  maxSubThirdShares,
  type ShareAllocation,
  shareIndexesOf,
  shareOwner,
} from '../../../../gateway/consensus/beacon/index.js';

/** Every subset: the most shares under 1/3 of the weight, the fewest over 2/3. */
function bruteForce(weights: readonly number[], counts: readonly number[]) {
  const n = weights.length;
  const W = BigInt(weights.reduce((a, b) => a + b, 0));
  let maxUnderThird = 0;
  let minOverTwoThirds = Number.POSITIVE_INFINITY;
  for (let mask = 0; mask < 1 << n; mask++) {
    let w = 0n;
    let k = 0;
    for (let i = 0; i < n; i++) {
      if (mask & (1 << i)) {
        w += BigInt(weights[i]!);
        k += counts[i]!;
      }
    }
    if (3n * w < W) maxUnderThird = Math.max(maxUnderThird, k);
    if (3n * w > 2n * W) minOverTwoThirds = Math.min(minOverTwoThirds, k);
  }
  return { maxUnderThird, minOverTwoThirds };
}

function checkBound(weights: readonly number[], a: ShareAllocation, maxTotal: number): void {
  const { maxUnderThird, minOverTwoThirds } = bruteForce(weights, a.counts);
  expect(a.maxSubThirdShares).toBe(maxUnderThird);
  expect(maxUnderThird).toBeLessThan(a.threshold); // secrecy
  expect(minOverTwoThirds).toBeGreaterThanOrEqual(a.threshold); // liveness
  expect(a.total).toBe(a.counts.reduce((x, y) => x + y, 0));
  expect(a.total).toBeLessThanOrEqual(maxTotal);
  expect(a.threshold).toBeGreaterThanOrEqual(Math.floor(a.total / 3) + 1);
  if (a.everyMemberHasShares) for (const k of a.counts) expect(k).toBeGreaterThanOrEqual(1);
}

/** The rule of docs/consensus.md §3.2: Hamilton (optionally with a floor of 1) and t = ⌊N/3⌋ + 1. */
function designRule(weights: readonly number[], floorOne: boolean) {
  const n = weights.length;
  let counts: number[];
  if (floorOne) {
    let P = 4 * n;
    for (;;) {
      const h = hamilton(weights, P);
      if (P + h.filter((k) => k === 0).length <= 4 * n) {
        counts = h.map((k) => Math.max(1, k));
        break;
      }
      P--;
    }
  } else {
    counts = hamilton(weights, 4 * n);
  }
  const N = counts.reduce((a, b) => a + b, 0);
  return { counts, N, t: Math.floor(N / 3) + 1 };
}

describe('the design rule t = floor(N/3) + 1 breaks for some weights', () => {
  it('[5, 11]: member 0 holds 5/16 < 1/3 of the weight and t shares', () => {
    const d = designRule([5, 11], true);
    expect(d).toEqual({ counts: [3, 5], N: 8, t: 3 });
    expect(3 * 5).toBeLessThan(16);
    // Ours: t = 4, and the honest member 1 (11/16 > 2/3) still holds 5 >= 4.
    const a = allocateShares([5, 11]);
    expect(a.counts).toEqual([3, 5]);
    expect(a.threshold).toBe(4);
    checkBound([5, 11], a, 8);
  });

  it('[1, 22, 22, 22] without the floor: member 1 (22/67) holds t = 6 shares', () => {
    const d = designRule([1, 22, 22, 22], false);
    expect(d).toEqual({ counts: [0, 6, 5, 5], N: 16, t: 6 });
    expect(3 * 22).toBeLessThan(67);
    checkBound([1, 22, 22, 22], allocateShares([1, 22, 22, 22]), 16);
  });

  it('64 members: 62 tiny ones and a 10^6 one hold 125 of 256 shares with 32% of the weight', () => {
    const weights = [...Array<number>(62).fill(1), 1_000_000, 2_100_000];
    const d = designRule(weights, true);
    expect(d.N).toBe(256);
    expect(d.t).toBe(86);
    const a = allocateShares(weights);
    expect(a.everyMemberHasShares).toBe(true);
    expect(a.counts.slice(60)).toEqual([1, 1, 63, 131]);
    expect(a.maxSubThirdShares).toBe(125);
    expect(a.threshold).toBe(126);
    // The only set over 2/3 of the weight without the 2.1e6 member does not exist; with it, >= 131 shares.
    expect(a.counts[63]).toBeGreaterThanOrEqual(a.threshold);
    expect(3 * (62 + 1_000_000)).toBeLessThan(3_100_062);
  });
});

describe('allocateShares', () => {
  it('equal weights: 4 shares each, t = floor(N/3) + 1', () => {
    const a = allocateShares([7, 7, 7, 7]);
    expect(a.counts).toEqual([4, 4, 4, 4]);
    expect(a.total).toBe(16);
    expect(a.threshold).toBe(6);
    expect(a.starts).toEqual([0, 4, 8, 12]);
    checkBound([7, 7, 7, 7], a, 16);
  });

  it('a single member', () => {
    const a = allocateShares([5]);
    expect(a.counts).toEqual([4]);
    expect(a.threshold).toBe(2);
    checkBound([5], a, 4);
  });

  it('falls back to plain Hamilton (zero-share members) when the floor breaks liveness', () => {
    const weights = [...Array<number>(13).fill(1), 1000, 2000, 2100];
    const a = allocateShares(weights, 32);
    expect(a.everyMemberHasShares).toBe(false);
    expect(a.counts).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 6, 13, 13]);
    checkBound(weights, a, 32);
    // With the floor, 13 tiny members + the 1000 one (< 1/3 of the weight) would hold half the shares.
    const floor = hamilton(weights, 19).map((k) => Math.max(1, k));
    expect(floor.reduce((x, y) => x + y, 0)).toBe(32);
    expect(2 * maxSubThirdShares(weights, floor) + 1).toBeGreaterThan(32);
  });

  it('property: secrecy and liveness hold for every subset (random, skewed weights)', () => {
    const weight = fc.oneof(
      fc.integer({ min: 1, max: 10 }),
      fc.integer({ min: 1, max: 1000 }),
      fc.integer({ min: 1, max: 2 ** 40 }),
    );
    fc.assert(
      fc.property(
        fc.array(weight, { minLength: 1, maxLength: 11 }),
        fc.integer({ min: 1, max: 6 }),
        (weights, mult) => {
          const maxTotal = Math.max(weights.length, Math.ceil((mult * weights.length) / 2) + 3);
          let a: ShareAllocation;
          try {
            a = allocateShares(weights, maxTotal);
          } catch (e) {
            // Only possible below N = 3n/2 (module comment).
            expect(e).toBeInstanceOf(ArgumentError);
            expect(2 * maxTotal).toBeLessThan(3 * weights.length);
            return;
          }
          checkBound(weights, a, maxTotal);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('property: plain Hamilton gains at most n/4 over the exact quota (the proof of rule 4)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 500 }), { minLength: 1, maxLength: 10 }),
        fc.integer({ min: 1, max: 64 }),
        (weights, P) => {
          const n = weights.length;
          const W = weights.reduce((a, b) => a + b, 0);
          const h = hamilton(weights, P);
          expect(h.reduce((a, b) => a + b, 0)).toBe(P);
          for (let mask = 0; mask < 1 << n; mask++) {
            let gain = 0; // k(S) − P·w(S)/W, scaled by W
            for (let i = 0; i < n; i++) if (mask & (1 << i)) gain += h[i]! * W - P * weights[i]!;
            expect(4 * gain).toBeLessThanOrEqual(n * W);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('is deterministic and integer-exact for huge weights', () => {
    const weights = [2 ** 52 - 1, 3, 2 ** 40, 5];
    expect(allocateShares(weights)).toEqual(allocateShares([...weights]));
    checkBound(weights, allocateShares(weights), 16);
  });

  it('share indexes and owners agree', () => {
    const a = allocateShares([3, 1, 0 + 1, 40, 2, 9]);
    const seen: number[] = [];
    a.counts.forEach((_, i) => {
      for (const x of shareIndexesOf(a, i)) {
        expect(shareOwner(a, x)).toBe(i);
        seen.push(x);
      }
    });
    expect(seen).toEqual(Array.from({ length: a.total }, (_, i) => i + 1));
    const z = allocateShares([...Array<number>(13).fill(1), 1000, 2000, 2100], 32);
    for (let x = 1; x <= z.total; x++) expect(z.counts[shareOwner(z, x)]).toBeGreaterThan(0);
    expect(() => shareOwner(a, 0)).toThrow(RangeError);
    expect(() => shareOwner(a, a.total + 1)).toThrow(RangeError);
  });

  it('refuses bad arguments', () => {
    expect(() => allocateShares([])).toThrow(ArgumentError);
    expect(() => allocateShares([1, 0])).toThrow(ArgumentError);
    expect(() => allocateShares([1, 1.5])).toThrow(ArgumentError);
    expect(() => allocateShares([2 ** 53, 1])).toThrow(ArgumentError);
    expect(() => allocateShares([1, 1, 1], 2)).toThrow(ArgumentError);
    expect(() => allocateShares([1, 1, 1], 70_000)).toThrow(ArgumentError);
  });
});
