/**
 * Weighted share allocation for the beacon's threshold key (docs/beacon.md §1).
 *
 * Member i gets k_i Shamir shares, at the consecutive indexes start_i+1 .. start_i+k_i (1-based, in member
 * order); N = Σ k_i; any t shares sign. What we need, for every set S of members, with W the total weight:
 *
 *   (secrecy)  3·w(S) <  W  ⇒  k(S) < t      a coalition under 1/3 of the weight cannot sign or predict
 *   (liveness) 3·w(S) > 2W  ⇒  k(S) ≥ t      the honest members (over 2/3 by [A1]) can always sign
 *
 * docs/consensus.md §3.2 takes t = ⌊N/3⌋ + 1 with k_i ∝ w_i and argues "rounding gives each member at most one
 * extra share". That is not enough: the extra shares add up over the coalition's members. With largest-
 * remainder rounding a coalition of u up-rounded members can gain up to u(n−u)/n shares over its exact quota
 * (≤ n/4 in total, proof below), and the k_i ≥ 1 floor gives every tiny member a whole share. Smallest
 * examples (test/unit/gateway/beacon/allocation.test.ts), with N = 4n and t = ⌊N/3⌋ + 1:
 *   - weights [5, 11]: k = [3, 5], N = 8, t = 3, and member 0 (5/16 < 1/3 of the weight) signs alone;
 *   - weights [1, 22, 22, 22] without the floor: k = [0, 6, 5, 5], t = 6, member 1 (22/67) signs alone;
 *   - 62 members of weight 1, one of 10^6 and one of 2.1·10^6: the 62 tiny members and the 10^6 one hold
 *     0.32 of the weight and 125 of the 256 shares, against t = 86.
 *
 * The rule implemented here:
 *
 *   1. k = Hamilton (largest remainder, ties to the lower index) apportionment of a budget P by weight,
 *      then every member with 0 raised to 1, with P the largest budget for which N = P + (#raised) ≤ maxTotal.
 *   2. M = max{ k(S) : 3·w(S) < W }, computed EXACTLY by a knapsack over share counts (O(n·N)).
 *   3. If 2M + 1 ≤ N: t = max(⌊N/3⌋ + 1, M + 1). Secrecy holds because every sub-third coalition holds ≤ M < t
 *      shares; liveness because the complement of a set over 2/3 of the weight is a sub-third set, so the set
 *      holds ≥ N − M ≥ M + 1 shares, and N − M ≥ ⌊N/3⌋ + 1 as M ≤ (N−1)/2. t equals the design's ⌊N/3⌋ + 1
 *      whenever the design's claim holds for this weight vector, and is raised to M + 1 when it does not.
 *   4. Otherwise (extreme weight spreads, where the floor of 1 share per member hands a sub-third coalition
 *      of many tiny members half the shares) the floor is dropped: k = plain Hamilton of P = maxTotal,
 *      members with quota < 1 may get 0 shares (they still deal, verify and complain; they cannot sign), and
 *      t is chosen as in 3. For plain Hamilton, 2M + 1 ≤ N is guaranteed whenever N ≥ 3n/2 (so with the
 *      default 4n):
 *
 *      Proof. Let q_i = N·w_i/W, f_i its fractional part, U the up-rounded members, D the others; Hamilton
 *      gives f_i ≥ φ ≥ f_j for i ∈ U, j ∈ D, with φ = min_U f_i. For any S, the gain
 *      k(S) − q(S) ≤ Σ_{S∩U} (1 − f_i) ≤ a(1 − φ), a = |S∩U|; and since Σ_i k_i = Σ_i q_i,
 *      Σ_U (1 − f_i) = Σ_D f_j ≤ bφ, b = |D|. So the gain is ≤ min(a(1−φ), bφ) ≤ ab/(a+b) ≤ (a+b)/4 ≤ n/4.
 *      Hence M < N/3 + n/4, 2M < 2N/3 + n/2 ≤ N when N ≥ 3n/2, and t ≤ max(⌊N/3⌋+1, ⌈N/3 + n/4⌉) ≤ N − M. ∎
 *
 * Everything is integer arithmetic (BigInt for products of weights), so every node gets the same result.
 */
import { ArgumentError } from '../../../core/errors.js';

/** Share indexes are u16 on the wire (AEAD nonce, associated data). */
export const MAX_TOTAL_SHARES = 0xffff;

export interface ShareAllocation {
  /** k_i per member, in member order. */
  readonly counts: readonly number[];
  /** First share index of member i minus 1: member i owns starts[i]+1 .. starts[i]+counts[i]. */
  readonly starts: readonly number[];
  /** N = Σ k_i. */
  readonly total: number;
  /** t: shares needed to sign. */
  readonly threshold: number;
  /** M: the most shares any set of members under 1/3 of the weight holds (t > M, N − M ≥ t). */
  readonly maxSubThirdShares: number;
  /** True when every member has at least one share (rule 1); false in the fallback of rule 4. */
  readonly everyMemberHasShares: boolean;
  readonly totalWeight: number;
}

/** Hamilton apportionment of `budget` seats by weight; exact (BigInt), ties to the lower index. */
export function hamilton(weights: readonly number[], budget: number): number[] {
  const W = BigInt(weights.reduce((a, b) => a + b, 0));
  const P = BigInt(budget);
  const counts: number[] = [];
  const rems: bigint[] = [];
  let assigned = 0;
  for (const w of weights) {
    const num = P * BigInt(w);
    const fl = Number(num / W);
    counts.push(fl);
    rems.push(num % W);
    assigned += fl;
  }
  const order = weights
    .map((_, i) => i)
    .sort((a, b) => {
      const ra = rems[a]!;
      const rb = rems[b]!;
      return ra === rb ? a - b : ra > rb ? -1 : 1;
    });
  for (let r = 0; r < budget - assigned; r++) counts[order[r]!]!++;
  return counts;
}

/**
 * max{ k(S) : 3·w(S) < W } over all subsets S, exactly: dp[v] = least weight of a set holding exactly v
 * shares (0/1 knapsack over members, O(n·N)); partial sums stay ≤ W < 2^53, so doubles are exact.
 */
export function maxSubThirdShares(weights: readonly number[], counts: readonly number[]): number {
  const N = counts.reduce((a, b) => a + b, 0);
  const W = BigInt(weights.reduce((a, b) => a + b, 0));
  const dp = new Float64Array(N + 1).fill(Number.POSITIVE_INFINITY);
  dp[0] = 0;
  let reach = 0;
  for (let i = 0; i < counts.length; i++) {
    const k = counts[i]!;
    if (k === 0) continue;
    const w = weights[i]!;
    reach += k;
    for (let v = reach; v >= k; v--) {
      const c = dp[v - k]! + w;
      if (c < dp[v]!) dp[v] = c;
    }
  }
  for (let v = N; v > 0; v--) {
    const d = dp[v]!;
    if (d !== Number.POSITIVE_INFINITY && 3n * BigInt(d) < W) return v;
  }
  return 0;
}

function finish(
  weights: readonly number[],
  counts: number[],
  floorOne: boolean,
): ShareAllocation | undefined {
  const total = counts.reduce((a, b) => a + b, 0);
  const M = maxSubThirdShares(weights, counts);
  if (2 * M + 1 > total) return undefined;
  const threshold = Math.max(Math.floor(total / 3) + 1, M + 1);
  const starts: number[] = [];
  let s = 0;
  for (const k of counts) {
    starts.push(s);
    s += k;
  }
  return {
    counts,
    starts,
    total,
    threshold,
    maxSubThirdShares: M,
    everyMemberHasShares: floorOne,
    totalWeight: weights.reduce((a, b) => a + b, 0),
  };
}

/**
 * Share counts, threshold and the bound of the module comment. `maxTotalShares` is a consensus parameter
 * (default 4n): every node must pass the same value for the same committee.
 */
export function allocateShares(
  weights: readonly number[],
  maxTotalShares = 4 * weights.length,
): ShareAllocation {
  const n = weights.length;
  if (!Array.isArray(weights) || n === 0) throw new ArgumentError('weights', 'expected at least one member');
  let W = 0;
  for (const w of weights) {
    if (!Number.isSafeInteger(w) || w < 1)
      throw new ArgumentError('weights', 'weights must be integers >= 1');
    W += w;
  }
  if (!Number.isSafeInteger(W)) throw new ArgumentError('weights', 'total weight exceeds 2^53');
  if (!Number.isSafeInteger(maxTotalShares) || maxTotalShares < n || maxTotalShares > MAX_TOTAL_SHARES) {
    throw new ArgumentError('maxTotalShares', `must be within ${n}..${MAX_TOTAL_SHARES}`);
  }
  // Rule 1: the largest budget P whose allocation, with zeros raised to one share, fits maxTotalShares.
  for (let P = maxTotalShares; P >= 0; P--) {
    const h = hamilton(weights, P);
    const zeros = h.filter((k) => k === 0).length;
    if (P + zeros > maxTotalShares) continue;
    const ok = finish(
      weights,
      h.map((k) => Math.max(1, k)),
      true,
    );
    if (ok) return ok;
    break;
  }
  // Rule 4: no floor. Guaranteed to satisfy 2M + 1 ≤ N when N ≥ 3n/2 (module comment).
  const ok = finish(weights, hamilton(weights, maxTotalShares), false);
  if (!ok) {
    throw new ArgumentError(
      'maxTotalShares',
      `no threshold satisfies both bounds with ${maxTotalShares} shares`,
    );
  }
  return ok;
}

/** The member that owns share index x (1-based). */
export function shareOwner(alloc: ShareAllocation, x: number): number {
  if (!Number.isInteger(x) || x < 1 || x > alloc.total) throw new RangeError(`share index ${x} out of range`);
  let lo = 0;
  let hi = alloc.starts.length - 1;
  // Last member with starts[i] < x (members with 0 shares share a start with the next one).
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (alloc.starts[mid]! < x) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Share indexes of member i. */
export function shareIndexesOf(alloc: ShareAllocation, member: number): number[] {
  const s = alloc.starts[member];
  const k = alloc.counts[member];
  if (s === undefined || k === undefined) throw new RangeError(`member ${member} out of range`);
  return Array.from({ length: k }, (_, j) => s + j + 1);
}
