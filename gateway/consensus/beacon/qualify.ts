/**
 * End of the DKG (docs/beacon.md §5): which dealers count, the group key, every member's final shares.
 *
 * A dealer is disqualified if it did not deal (by the deadline: the caller passes the dealings included on
 * chain in time), its dealing is publicly invalid, a justified complaint accuses it, or it made a false
 * complaint itself (a proven false accusation; it would otherwise be free to make). The DKG succeeds only if
 * the qualified dealers hold MORE than W/3 of the weight: then, under [A1], at least one qualified dealer is
 * honest, and its uniformly random, secret constant term makes the group secret unknown to the coalition.
 * docs/consensus.md §3.1 has no such rule; without it a coalition that got honest dealings censored or
 * delayed (before GST, or as proposers) would be left alone in the qualified set, know the group secret,
 * and could choose among its own dealings the one whose seed it likes: bias. A failed DKG falls back to the
 * predictable seed of §3.2 instead.
 *
 * Results depend only on the SET of dealings and complaints (not their order), so every node agrees.
 */
import { VerifyError } from '../../../core/errors.js';
import { shareIndexesOf } from './allocation.js';
import { decodeComplaint, verifyComplaint } from './complaint.js';
import { type BeaconContext, prepareContext } from './context.js';
import { evalCommitment, Fr, G1, G1_BYTES, type G1Point, g1ToBytesBatch, pointDecoder } from './curve.js';
import { type Dealing, type Share, verifyDealingPublic } from './dealing.js';

export type DisqualifyReason = 'missing' | 'invalid' | 'complaint' | 'false-complaint';

export type ComplaintOutcome =
  /** The dealer is disqualified. */
  | 'justified'
  /** The share was fine: the complainer is a false accuser. */
  | 'false'
  /** Not a valid complaint (undecodable, bad proof, not the complainer's share): ignored. */
  | 'invalid'
  /** Against a dealer already disqualified for a missing or invalid dealing: nothing to decide. */
  | 'moot';

export interface QualifyResult {
  /** Qualified dealer indexes, ascending. */
  readonly qualified: readonly number[];
  readonly disqualified: ReadonlyMap<number, DisqualifyReason>;
  readonly falseAccusers: readonly number[];
  /** One outcome per input complaint, in input order. */
  readonly complaintOutcomes: readonly ComplaintOutcome[];
  readonly qualifiedWeight: number;
  readonly threshold: number;
  /** A_j = Σ_{qualified d} C_{d,j}, j = 0..t−1. */
  readonly groupCommitments: readonly G1Point[];
  /** t × 48 bytes: the same, compressed and concatenated (what the state records). */
  readonly groupCommitmentBytes: Uint8Array;
  /** A_0, 48 bytes: the group BLS public key. */
  readonly groupPublicKey: Uint8Array;
  /** The valid dealings of the qualified dealers (for openShares). */
  readonly dealings: ReadonlyMap<number, Dealing>;
}

/**
 * Throws VerifyError('VERIFY_INSUFFICIENT_WEIGHT') if the qualified dealers hold at most W/3 of the weight
 * (the DKG failed), or VERIFY_INVALID_FIELD if the group key is the identity (impossible unless the group
 * secret is 0, i.e. known).
 */
export function qualify(
  ctx: BeaconContext,
  dealings: ReadonlyMap<number, Uint8Array | Dealing>,
  complaints: readonly (Uint8Array | null)[] = [],
): QualifyResult {
  const prep = prepareContext(ctx);
  const n = ctx.members.length;
  const disqualified = new Map<number, DisqualifyReason>();
  const valid = new Map<number, Dealing>();
  for (let d = 0; d < n; d++) {
    const raw = dealings.get(d);
    if (raw === undefined) {
      disqualified.set(d, 'missing');
      continue;
    }
    try {
      valid.set(d, verifyDealingPublic(ctx, raw, d));
    } catch {
      disqualified.set(d, 'invalid');
    }
  }

  const accused = new Set<number>();
  const accusers = new Set<number>();
  const complaintOutcomes: ComplaintOutcome[] = complaints.map((bytes) => {
    if (!(bytes instanceof Uint8Array)) return 'invalid';
    try {
      const c = decodeComplaint(bytes);
      const dealing = valid.get(c.dealerIndex);
      if (!dealing) return c.dealerIndex < n && c.epoch === ctx.epoch ? 'moot' : 'invalid';
      if (verifyComplaint(ctx, dealing, c)) {
        accused.add(c.dealerIndex);
        return 'justified';
      }
      accusers.add(c.complainerIndex);
      return 'false';
    } catch {
      return 'invalid';
    }
  });
  for (const d of accused) disqualified.set(d, 'complaint');
  for (const d of accusers) if (!disqualified.has(d)) disqualified.set(d, 'false-complaint');

  const qualified: number[] = [];
  let qualifiedWeight = 0;
  for (let d = 0; d < n; d++) {
    if (disqualified.has(d)) continue;
    qualified.push(d);
    qualifiedWeight += ctx.members[d]!.weight;
  }
  if (3n * BigInt(qualifiedWeight) <= BigInt(prep.totalWeight)) {
    throw new VerifyError(
      'VERIFY_INSUFFICIENT_WEIGHT',
      `DKG failed: qualified dealers hold ${qualifiedWeight} of ${prep.totalWeight} weight (need more than 1/3)`,
      { qualified, qualifiedWeight, totalWeight: prep.totalWeight },
    );
  }

  const t = prep.alloc.threshold;
  const groupCommitments: G1Point[] = [];
  for (let j = 0; j < t; j++) {
    let acc = G1.ZERO;
    for (const d of qualified) acc = acc.add(valid.get(d)!.commitments[j]!);
    groupCommitments.push(acc);
  }
  if (groupCommitments[0]!.is0()) {
    throw new VerifyError('VERIFY_INVALID_FIELD', 'DKG failed: the group public key is the identity', {
      field: 'groupPublicKey',
    });
  }
  const groupCommitmentBytes = encodeG1List(groupCommitments);
  const qualifiedDealings = new Map<number, Dealing>();
  for (const d of qualified) qualifiedDealings.set(d, valid.get(d)!);
  return {
    qualified,
    disqualified,
    falseAccusers: [...accusers].sort((a, b) => a - b),
    complaintOutcomes,
    qualifiedWeight,
    threshold: t,
    groupCommitments,
    groupCommitmentBytes,
    groupPublicKey: groupCommitmentBytes.slice(0, G1_BYTES),
    dealings: qualifiedDealings,
  };
}

/** Compressed, concatenated (the identity is encoded too, as 0xc0 || 0…: possible only for j ≥ 1). */
export function encodeG1List(points: readonly G1Point[]): Uint8Array {
  const out = new Uint8Array(points.length * G1_BYTES);
  const finite = points.filter((p) => !p.is0());
  const enc = g1ToBytesBatch(finite);
  let k = 0;
  points.forEach((p, j) => {
    out.set(p.is0() ? p.toBytes() : enc[k++]!, j * G1_BYTES);
  });
  return out;
}

/**
 * Group commitments from their recorded bytes (t × 48). Every entry must be a valid subgroup point; A_0 must
 * not be the identity; A_j (j ≥ 1) may be (a sum of commitments can cancel).
 */
export function decodeGroupCommitments(bytes: Uint8Array, threshold: number): G1Point[] {
  if (!(bytes instanceof Uint8Array) || bytes.length !== threshold * G1_BYTES) {
    throw new VerifyError('VERIFY_INVALID_FIELD', 'group commitments: wrong length', {
      field: 'groupCommitments',
    });
  }
  const out: G1Point[] = [];
  for (let j = 0; j < threshold; j++) {
    const b = bytes.subarray(j * G1_BYTES, (j + 1) * G1_BYTES);
    const p = j > 0 && isG1Identity(b) ? G1.ZERO : pointDecoder().g1(b);
    if (!p) {
      throw new VerifyError('VERIFY_INVALID_FIELD', `group commitment ${j} is not a G1 point`, {
        field: `groupCommitments[${j}]`,
      });
    }
    out.push(p);
  }
  return out;
}

function isG1Identity(b: Uint8Array): boolean {
  if (b[0] !== 0xc0) return false;
  for (let i = 1; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

/**
 * Member i's final secret shares: for each of its indexes x, Σ over qualified dealers of f_d(x).
 * `opened` maps each qualified dealer to the shares openShares returned for its dealing.
 */
export function memberSecretShares(
  ctx: BeaconContext,
  qualified: readonly number[],
  myIndex: number,
  opened: ReadonlyMap<number, readonly Share[]>,
): Share[] {
  const { alloc } = prepareContext(ctx);
  const indexes = shareIndexesOf(alloc, myIndex);
  const sums = indexes.map(() => 0n);
  for (const d of qualified) {
    const shares = opened.get(d);
    if (!shares || shares.length !== indexes.length || shares.some((s, l) => s.index !== indexes[l])) {
      throw new VerifyError('VERIFY_INVALID_FIELD', `no valid shares from qualified dealer ${d}`, {
        field: 'opened',
        dealer: d,
      });
    }
    shares.forEach((s, l) => {
      sums[l] = Fr.add(sums[l]!, s.value);
    });
  }
  return indexes.map((index, l) => ({ index, value: sums[l]! }));
}

/** The public key of share index x: Σ_j A_j x^j (48 bytes; the identity only if the share is 0). */
export function publicShareKey(groupCommitments: readonly G1Point[], x: number): G1Point {
  return evalCommitment(groupCommitments, x);
}
