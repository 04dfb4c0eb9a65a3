/**
 * A complaint against a dealing (docs/beacon.md §4): the complainer publishes the ECDH point of that dealing,
 * K = [x_me]E, with a Chaum-Pedersen proof that log_B(X_me) = log_E(K). Anyone can then derive the share key,
 * decrypt the accused share and check it against the commitments: the complaint is *justified* iff the
 * ciphertext does not authenticate, the plaintext is not a scalar < r, or [s]g1 ≠ Σ C_j x^j.
 *
 * Complaint = [1, epoch, dealerIndex, complainerIndex, shareIndex, sharedPoint, proof]
 *   sharedPoint bytes(32)  K, canonical, prime order, not the identity
 *   proof       bytes(64)  c || s (LE scalars < L); c = H("iosnet/dkg-dleq/v1", context || u16be(dealerIndex)
 *                          || u16be(complainerIndex) || u16be(shareIndex) || dealingId || X || E || K || R1 || R2)
 *                          mod L with R1 = [s]B − [c]X, R2 = [s]E − [c]K
 * The proof is also a proof of knowledge of x_me, so a complaint cannot be made in another member's name; and
 * it binds the dealing id, so it accuses exactly one dealing.
 *
 * Revealing K exposes every share of that dealing encrypted to the complainer, and nothing else: the key
 * derivation binds the dealing's E, and the dealer proved knowledge of log E (so it could compute K = [e]X
 * itself; nothing leaks to it).
 */
import { concatBytes } from '../../../core/bytes.js';
import { CborReader, CborWriter } from '../../../core/cbor.js';
import { DecodeError, invalidValue, VerifyError } from '../../../core/errors.js';
import { assertMaxSize } from '../../../core/object.js';
import { MAX_DKG_COMPLAINT_BYTES } from '../../../core/tx.js';
import { shareOwner } from './allocation.js';
import { type BeaconContext, MAX_BEACON_MEMBERS, type PreparedContext, prepareContext } from './context.js';
import { evalCommitment, type G1Point, g1Base, scalarFromBytes } from './curve.js';
import { type Dealing, verifyDealingPublic } from './dealing.js';
import {
  decodePrimeOrderPoint,
  decryptShare,
  type EdPointT,
  edScalarFromBytes,
  proveDleq,
  shareKey,
  u16be,
  verifyDleq,
} from './edwards.js';

export const COMPLAINT_VERSION = 1;

export interface Complaint {
  readonly bytes: Uint8Array;
  readonly epoch: number;
  readonly dealerIndex: number;
  readonly complainerIndex: number;
  readonly shareIndex: number;
  readonly sharedPoint: EdPointT;
  readonly sharedPointBytes: Uint8Array;
  readonly proof: Uint8Array;
}

export function complaintContext(
  prep: PreparedContext,
  dealerIndex: number,
  complainerIndex: number,
  shareIndex: number,
  dealingId: Uint8Array,
): Uint8Array {
  return concatBytes(
    prep.contextBytes,
    u16be(dealerIndex),
    u16be(complainerIndex),
    u16be(shareIndex),
    dealingId,
  );
}

/** Builds a complaint (openShares calls it; exported for tests that need a false one). */
export function createComplaint(
  ctx: BeaconContext,
  dealing: Dealing,
  complainerIndex: number,
  shareIndex: number,
  x: bigint,
): Uint8Array {
  const prep = prepareContext(ctx);
  const X = ctx.members[complainerIndex]!.nodePublicKey;
  const K = dealing.ephemeralKey.multiply(x).toBytes();
  const context = complaintContext(prep, dealing.dealerIndex, complainerIndex, shareIndex, dealing.id);
  const proof = proveDleq(x, X, dealing.ephemeralKey, dealing.ephemeralKeyBytes, K, context);
  const w = new CborWriter(160);
  w.array(7).uint(COMPLAINT_VERSION).uint(dealing.epoch).uint(dealing.dealerIndex);
  w.uint(complainerIndex).uint(shareIndex).bytes(K).bytes(proof);
  return w.finish();
}

/** Context-free structural decoding. Throws DecodeError (fields "complaint.*"). */
export function decodeComplaint(bytes: Uint8Array): Complaint {
  assertMaxSize(bytes, MAX_DKG_COMPLAINT_BYTES, 'complaint');
  const r = new CborReader(bytes);
  r.array('complaint', 7);
  const version = r.uint('complaint.version');
  if (version !== COMPLAINT_VERSION) {
    throw new DecodeError('DECODE_UNKNOWN_VERSION', `complaint: unknown version ${version}`, {
      field: 'complaint.version',
      version,
    });
  }
  const epoch = r.uint('complaint.epoch');
  const dealerIndex = r.uint('complaint.dealerIndex', MAX_BEACON_MEMBERS - 1);
  const complainerIndex = r.uint('complaint.complainerIndex', MAX_BEACON_MEMBERS - 1);
  const shareIndex = r.uint('complaint.shareIndex', 0xffff);
  if (shareIndex < 1) invalidValue('complaint.shareIndex', 'share indexes start at 1');
  const sharedPointBytes = r.bytesField('complaint.sharedPoint', 32);
  const sharedPoint = decodePrimeOrderPoint(sharedPointBytes);
  if (!sharedPoint) invalidValue('complaint.sharedPoint', 'not a canonical prime-order Edwards25519 point');
  const proof = r.bytesField('complaint.proof', 64);
  if (
    edScalarFromBytes(proof.subarray(0, 32)) === undefined ||
    edScalarFromBytes(proof.subarray(32)) === undefined
  ) {
    invalidValue('complaint.proof', 'scalar not below L');
  }
  r.end('complaint');
  return { bytes, epoch, dealerIndex, complainerIndex, shareIndex, sharedPoint, sharedPointBytes, proof };
}

function fieldError(field: string, message: string): never {
  throw new VerifyError('VERIFY_INVALID_FIELD', `complaint: ${message}`, { field });
}

/** The accused share checks out: [s]g1 = Σ C_j x^j. */
export function shareMatchesCommitments(commitments: readonly G1Point[], x: number, s: bigint): boolean {
  return g1Base(s).equals(evalCommitment(commitments, x));
}

/**
 * True: the complaint is justified (the dealer must be disqualified). False: the share is fine — a false
 * accusation, itself provable misbehaviour of the complainer (we recommend excluding the complainer's own
 * dealing, as qualify() does, and treating the pair (dealing, complaint) as slashable evidence).
 * Throws DecodeError/VerifyError if the complaint is not a valid complaint about this dealing at all (wrong
 * epoch or dealer, share not owned by the complainer, complainer key with a torsion component, bad proof):
 * such a complaint proves nothing and must not be included on chain.
 */
export function verifyComplaint(
  ctx: BeaconContext,
  dealing: Uint8Array | Dealing,
  complaint: Uint8Array | Complaint,
): boolean {
  const prep = prepareContext(ctx);
  const d = verifyDealingPublic(ctx, dealing);
  const c = complaint instanceof Uint8Array ? decodeComplaint(complaint) : complaint;
  if (c.epoch !== ctx.epoch) fieldError('complaint.epoch', `epoch ${c.epoch}, expected ${ctx.epoch}`);
  if (c.dealerIndex !== d.dealerIndex) fieldError('complaint.dealerIndex', 'names another dealer');
  if (c.complainerIndex >= ctx.members.length) fieldError('complaint.complainerIndex', 'not a member');
  if (c.shareIndex > prep.alloc.total || shareOwner(prep.alloc, c.shareIndex) !== c.complainerIndex) {
    fieldError('complaint.shareIndex', `share ${c.shareIndex} is not the complainer's`);
  }
  const Xbytes = ctx.members[c.complainerIndex]!.nodePublicKey;
  const X = decodePrimeOrderPoint(Xbytes);
  if (!X) fieldError('complaint.complainerIndex', "the complainer's node key is not of prime order");
  const context = complaintContext(prep, c.dealerIndex, c.complainerIndex, c.shareIndex, d.id);
  if (
    !verifyDleq(
      X,
      Xbytes,
      d.ephemeralKey,
      d.ephemeralKeyBytes,
      c.sharedPoint,
      c.sharedPointBytes,
      context,
      c.proof,
    )
  ) {
    throw new VerifyError('VERIFY_PROOF_INVALID', 'complaint: proof does not verify', {
      field: 'complaint.proof',
    });
  }
  const key = shareKey(c.sharedPointBytes, prep.contextBytes, d.dealerIndex, d.ephemeralKeyBytes, Xbytes);
  const plain = decryptShare(key, d.dealerIndex, c.shareIndex, d.encryptedShares[c.shareIndex - 1]!);
  if (!plain) return true;
  const s = scalarFromBytes(plain);
  if (s === undefined) return true;
  return !shareMatchesCommitments(d.commitments, c.shareIndex, s);
}
