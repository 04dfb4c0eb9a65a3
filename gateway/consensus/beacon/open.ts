/**
 * A member opens its shares of one dealing: derive K = [x_me]E, decrypt each of its shares, and check them
 * against the dealer's commitments; the first share that fails becomes a complaint.
 *
 * Checking k shares one by one costs k·(one G1 base multiplication + a Horner evaluation of the t
 * commitments at x). x is a small integer (≤ N), so each Horner step is a ~9-16-bit scalar multiplication,
 * 10-20x cheaper than a full one. For k ≥ BATCH_CHECK_MIN_SHARES we check a random linear combination instead:
 *     [Σ_l ρ_l s_l] g1 == Σ_j C_j · (Σ_l ρ_l x_l^j)        (one Pippenger MSM of t points, one base mult)
 * with ρ_l = expandScalar("iosnet/dkg-batch/v1", dealingId || my share bytes, l) mod r. If some share is wrong,
 * the combination of the errors Σ ρ_l (s_l − f(x_l)) vanishes only if ρ hits a fixed hyperplane: probability
 * 1/r per choice of ρ; ρ is a hash of the dealing and the shares, which the dealer fixes before ρ exists, so
 * cheating means grinding dealings against a random oracle (2^-255 per try). Only when the combination fails
 * are the shares checked one by one, to name the bad one in the complaint.
 * The MSM costs about as much as 8-12 single checks (measured for t = 23..94, docs/beacon.md §7): with 4n
 * shares a typical member holds ~4, so batching only helps heavy members.
 */
import { concatBytes, equalBytes } from '../../../core/bytes.js';
import { ArgumentError } from '../../../core/errors.js';
import { shareIndexesOf } from './allocation.js';
import { createComplaint, shareMatchesCommitments } from './complaint.js';
import { type BeaconContext, prepareContext } from './context.js';
import { Fr, g1Base, msmG1, powers, R_ORDER, scalarFromBytes } from './curve.js';
import { type Dealing, type Share, verifyDealingPublic } from './dealing.js';
import { DkgTag, decryptShare, expandScalar, nodeScalar, shareKey } from './edwards.js';

export type OpenResult =
  | { readonly ok: true; readonly shares: readonly Share[] }
  | {
      readonly ok: false;
      /** Complaint bytes, ready for a dkgComplaint transaction. */
      readonly complaint: Uint8Array;
      readonly shareIndex: number;
      readonly reason: 'decrypt' | 'range' | 'commitment';
    };

/** Shares per member from which the batched check is used (measured crossover, docs/beacon.md §7). */
export const BATCH_CHECK_MIN_SHARES = 10;

/**
 * Opens member `myIndex`'s shares of a dealing. Throws DecodeError/VerifyError if the dealing is publicly
 * invalid (everyone disqualifies it; there is nothing to complain about) and ArgumentError if the secret is
 * not member myIndex's node key.
 */
export function openShares(
  ctx: BeaconContext,
  dealing: Uint8Array | Dealing,
  myIndex: number,
  myNodeSecret: Uint8Array,
): OpenResult {
  const prep = prepareContext(ctx);
  if (!Number.isInteger(myIndex) || myIndex < 0 || myIndex >= ctx.members.length) {
    throw new ArgumentError('myIndex', `expected 0..${ctx.members.length - 1}`);
  }
  if (!(myNodeSecret instanceof Uint8Array) || myNodeSecret.length !== 32) {
    throw new ArgumentError('myNodeSecret', 'expected a 32-byte Ed25519 seed');
  }
  const { x, publicKey } = nodeScalar(myNodeSecret);
  const X = ctx.members[myIndex]!.nodePublicKey;
  if (!equalBytes(publicKey, X))
    throw new ArgumentError('myNodeSecret', `not the node key of member ${myIndex}`);
  const d = verifyDealingPublic(ctx, dealing);
  const indexes = shareIndexesOf(prep.alloc, myIndex);
  if (indexes.length === 0) return { ok: true, shares: [] };

  const K = d.ephemeralKey.multiply(x).toBytes();
  const key = shareKey(K, prep.contextBytes, d.dealerIndex, d.ephemeralKeyBytes, X);
  const complain = (shareIndex: number, reason: 'decrypt' | 'range' | 'commitment'): OpenResult => ({
    ok: false,
    complaint: createComplaint(ctx, d, myIndex, shareIndex, x),
    shareIndex,
    reason,
  });

  const shares: Share[] = [];
  const plains: Uint8Array[] = [];
  for (const i of indexes) {
    const plain = decryptShare(key, d.dealerIndex, i, d.encryptedShares[i - 1]!);
    if (!plain) return complain(i, 'decrypt');
    const s = scalarFromBytes(plain);
    if (s === undefined) return complain(i, 'range');
    shares.push({ index: i, value: s });
    plains.push(plain);
  }

  if (shares.length >= BATCH_CHECK_MIN_SHARES && batchCheck(d, shares, plains)) return { ok: true, shares };
  for (const s of shares) {
    if (!shareMatchesCommitments(d.commitments, s.index, s.value)) return complain(s.index, 'commitment');
  }
  return { ok: true, shares };
}

/** The batched check alone (exported for measurement and tests). */
export function batchCheck(d: Dealing, shares: readonly Share[], plains: readonly Uint8Array[]): boolean {
  const t = d.commitments.length;
  const seed = concatBytes(d.id, ...plains);
  const y = new Array<bigint>(t).fill(0n);
  let sum = 0n;
  shares.forEach((s, l) => {
    const rho = expandScalar(DkgTag.batch, seed, 'rho', l, R_ORDER);
    sum = Fr.add(sum, Fr.mul(rho, s.value));
    const pw = powers(BigInt(s.index), t);
    for (let j = 0; j < t; j++) y[j] = Fr.add(y[j]!, Fr.mul(rho, pw[j]!));
  });
  return g1Base(sum).equals(msmG1(d.commitments, y));
}
