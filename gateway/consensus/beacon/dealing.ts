/**
 * A Joint-Feldman dealing (docs/beacon.md §3): the dealer's random polynomial f of degree t−1 over Fr,
 * committed in G1, with f(x) for every share index x = 1..N encrypted to the member owning x.
 *
 * Dealing = [1, epoch, dealerIndex, commitments, ephemeralPublicKey, ephemeralProof, encryptedShares]
 *   commitments        bytes(t·48)   C_j = [a_j]g1, 48-byte compressed, j = 0..t−1; none the identity
 *   ephemeralPublicKey bytes(32)     E = [e]B, canonical, prime order, not the identity
 *   ephemeralProof     bytes(64)     Schnorr proof of knowledge of e (c || s, LE scalars < L), bound to
 *                                    (chainId, shard, epoch, dealerIndex): see edwards.ts. Without it a dealer
 *                                    could reuse an honest dealer's E (or E + [d]B), deal garbage, and have the
 *                                    victim's complaint publish [x]E_honest, the key to the victim's shares of
 *                                    the HONEST dealing (docs/beacon.md §6).
 *   encryptedShares    [N × bytes(48)]  entry x−1 = AES-256-GCM(key_i, f(x) as 32-byte BE) || tag, for the
 *                                    member i owning x (edwards.ts: key, nonce and associated data)
 */
import { normalizeZ } from '@noble/curves/abstract/curve.js';
import { concatBytes, equalBytes } from '../../../core/bytes.js';
import { CborReader, CborWriter } from '../../../core/cbor.js';
import { ArgumentError, DecodeError, invalidValue, VerifyError } from '../../../core/errors.js';
import { assertMaxSize } from '../../../core/object.js';
import { MAX_DKG_DEALING_BYTES } from '../../../core/tx.js';
import { shareIndexesOf } from './allocation.js';
import { type BeaconContext, type PreparedContext, prepareContext } from './context.js';
import {
  evalPoly,
  G1,
  G1_BYTES,
  type G1Point,
  g1ToBytesBatch,
  pointDecoder,
  R_ORDER,
  scalarToBytes,
} from './curve.js';
import {
  DkgTag,
  decodePrimeOrderPoint,
  EdPoint,
  type EdPointT,
  ENCRYPTED_SHARE_BYTES,
  edScalarFromBytes,
  encryptShare,
  expandScalar,
  L_ORDER,
  nodeScalar,
  provePok,
  shareKey,
  tagged,
  u16be,
  verifyPok,
} from './edwards.js';

export const DEALING_VERSION = 1;

export interface Dealing {
  /** The exact bytes (hashed into the dealing id; complaints bind to it). */
  readonly bytes: Uint8Array;
  /** H("iosnet/dkg-dealing/v1", bytes). */
  readonly id: Uint8Array;
  readonly epoch: number;
  readonly dealerIndex: number;
  readonly commitments: readonly G1Point[];
  readonly commitmentBytes: Uint8Array;
  readonly ephemeralKey: EdPointT;
  readonly ephemeralKeyBytes: Uint8Array;
  readonly ephemeralProof: Uint8Array;
  readonly encryptedShares: readonly Uint8Array[];
}

/** A share of a polynomial: f(index). */
export interface Share {
  readonly index: number;
  readonly value: bigint;
}

export type RandomBytes = (length: number) => Uint8Array;

/** What the dealer's proof of knowledge is bound to: context || u16be(dealerIndex). */
export function pokContext(prep: PreparedContext, dealerIndex: number): Uint8Array {
  return concatBytes(prep.contextBytes, u16be(dealerIndex));
}

export function dealingId(bytes: Uint8Array): Uint8Array {
  return tagged(DkgTag.dealing, bytes);
}

/** Exact size of a dealing in this context (the dealer index and epoch vary the size by a few bytes). */
export function dealingByteLength(ctx: BeaconContext, dealerIndex = 0): number {
  const { alloc } = prepareContext(ctx);
  const w = new CborWriter(16);
  w.array(7).uint(DEALING_VERSION).uint(ctx.epoch).uint(dealerIndex);
  const head = w.finish().length;
  const bstrHead = (len: number) => (len < 24 ? 1 : len < 256 ? 2 : len < 65536 ? 3 : 5);
  const arrHead = bstrHead(alloc.total);
  const t48 = alloc.threshold * G1_BYTES;
  return (
    head +
    bstrHead(t48) +
    t48 +
    2 +
    32 +
    2 +
    64 +
    arrHead +
    alloc.total * (bstrHead(ENCRYPTED_SHARE_BYTES) + ENCRYPTED_SHARE_BYTES)
  );
}

/**
 * Deals. `rng` supplies 32 bytes that are hedged with the dealer's node secret (as RFC 8032 derives its
 * nonces), so a weak device RNG alone does not expose the polynomial; the secret is also checked against
 * the dealer's registered node key.
 */
export function createDealing(
  ctx: BeaconContext,
  dealerIndex: number,
  dealerNodeSecret: Uint8Array,
  rng: RandomBytes,
): Uint8Array {
  const prep = prepareContext(ctx);
  const { alloc } = prep;
  const n = ctx.members.length;
  if (!Number.isInteger(dealerIndex) || dealerIndex < 0 || dealerIndex >= n) {
    throw new ArgumentError('dealerIndex', `expected 0..${n - 1}`);
  }
  if (!(dealerNodeSecret instanceof Uint8Array) || dealerNodeSecret.length !== 32) {
    throw new ArgumentError('dealerNodeSecret', 'expected a 32-byte Ed25519 seed');
  }
  const { publicKey } = nodeScalar(dealerNodeSecret);
  if (!equalBytes(publicKey, ctx.members[dealerIndex]!.nodePublicKey)) {
    throw new ArgumentError('dealerNodeSecret', `not the node key of member ${dealerIndex}`);
  }
  const size = dealingByteLength(ctx, dealerIndex);
  if (size > MAX_DKG_DEALING_BYTES) {
    throw new ArgumentError(
      'ctx.maxTotalShares',
      `a dealing of ${alloc.total} shares (t = ${alloc.threshold}) takes ${size} bytes > ${MAX_DKG_DEALING_BYTES}`,
    );
  }
  const entropy = rng(32);
  if (!(entropy instanceof Uint8Array) || entropy.length !== 32)
    throw new ArgumentError('rng', 'expected 32 bytes');
  const seed = tagged(DkgTag.coefficients, entropy, dealerNodeSecret, prep.contextBytes, u16be(dealerIndex));

  const t = alloc.threshold;
  const coeffs: bigint[] = [];
  for (let j = 0; j < t; j++) coeffs.push(expandScalar(DkgTag.coefficients, seed, 'poly', j, R_ORDER));
  const commitmentBytes = new Uint8Array(t * G1_BYTES);
  g1ToBytesBatch(coeffs.map((a) => G1.BASE.multiply(a))).forEach((b, j) => {
    commitmentBytes.set(b, j * G1_BYTES);
  });

  const e = expandScalar(DkgTag.coefficients, seed, 'ephemeral', 0, L_ORDER);
  const Ebytes = EdPoint.BASE.multiply(e).toBytes();
  const proof = provePok(e, Ebytes, pokContext(prep, dealerIndex), seed);

  const encrypted: Uint8Array[] = [];
  const recipients = ctx.members.map((_, i) => i).filter((i) => alloc.counts[i]! > 0);
  // [e]X_i for every recipient, made affine with one inversion.
  const shared = normalizeZ(
    EdPoint,
    recipients.map((i) => prep.nodeKeys[i]!.multiply(e)),
  );
  for (const [r, i] of recipients.entries()) {
    const X = ctx.members[i]!.nodePublicKey;
    const K = shared[r]!.toBytes();
    const key = shareKey(K, prep.contextBytes, dealerIndex, Ebytes, X);
    for (const x of shareIndexesOf(alloc, i)) {
      encrypted.push(encryptShare(key, dealerIndex, x, scalarToBytes(evalPoly(coeffs, BigInt(x)))));
    }
  }

  const w = new CborWriter(size + 16);
  w.array(7).uint(DEALING_VERSION).uint(ctx.epoch).uint(dealerIndex);
  w.bytes(commitmentBytes).bytes(Ebytes).bytes(proof);
  w.array(encrypted.length);
  for (const c of encrypted) w.bytes(c);
  return w.finish();
}

/**
 * Structural decoding against a context: canonical CBOR, exact sizes (t commitments, N shares), every
 * commitment a non-identity point of G1's r-order subgroup, E canonical, prime order and not the identity,
 * the proof's scalars < L. Throws DecodeError (codes as in docs/protocol.md §1, fields "dealing.*").
 */
export function decodeDealing(ctx: BeaconContext, bytes: Uint8Array): Dealing {
  const { alloc } = prepareContext(ctx);
  assertMaxSize(bytes, MAX_DKG_DEALING_BYTES, 'dealing');
  const r = new CborReader(bytes);
  r.array('dealing', 7);
  const version = r.uint('dealing.version');
  if (version !== DEALING_VERSION) {
    throw new DecodeError('DECODE_UNKNOWN_VERSION', `dealing: unknown version ${version}`, {
      field: 'dealing.version',
      version,
    });
  }
  const epoch = r.uint('dealing.epoch');
  const dealerIndex = r.uint('dealing.dealerIndex', ctx.members.length - 1);
  const commitmentBytes = r.bytesField('dealing.commitments', alloc.threshold * G1_BYTES);
  const dec = pointDecoder();
  const commitments: G1Point[] = [];
  for (let j = 0; j < alloc.threshold; j++) {
    const p = dec.g1(commitmentBytes.subarray(j * G1_BYTES, (j + 1) * G1_BYTES));
    if (!p) invalidValue(`dealing.commitments[${j}]`, 'not a non-identity point of the G1 subgroup');
    commitments.push(p);
  }
  const ephemeralKeyBytes = r.bytesField('dealing.ephemeralPublicKey', 32);
  const ephemeralKey = decodePrimeOrderPoint(ephemeralKeyBytes);
  if (!ephemeralKey) {
    invalidValue('dealing.ephemeralPublicKey', 'not a canonical prime-order Edwards25519 point');
  }
  const ephemeralProof = r.bytesField('dealing.ephemeralProof', 64);
  if (
    edScalarFromBytes(ephemeralProof.subarray(0, 32)) === undefined ||
    edScalarFromBytes(ephemeralProof.subarray(32)) === undefined
  ) {
    invalidValue('dealing.ephemeralProof', 'scalar not below L');
  }
  r.array('dealing.encryptedShares', alloc.total);
  const encryptedShares: Uint8Array[] = [];
  for (let x = 1; x <= alloc.total; x++) {
    encryptedShares.push(r.bytesField(`dealing.encryptedShares[${x - 1}]`, ENCRYPTED_SHARE_BYTES));
  }
  r.end('dealing');
  return {
    bytes,
    id: dealingId(bytes),
    epoch,
    dealerIndex,
    commitments,
    commitmentBytes,
    ephemeralKey,
    ephemeralKeyBytes,
    ephemeralProof,
    encryptedShares,
  };
}

/**
 * Everything anyone can check about a dealing: decodeDealing, the epoch, the dealer's index (if the caller
 * knows who sent it: the dkgDeal transaction's sender must be that member's node key, a check for the
 * transaction layer) and the proof of knowledge of the ephemeral key. Throws DecodeError or VerifyError.
 */
export function verifyDealingPublic(
  ctx: BeaconContext,
  dealing: Uint8Array | Dealing,
  dealerIndex?: number,
): Dealing {
  const prep = prepareContext(ctx);
  const d = dealing instanceof Uint8Array ? decodeDealing(ctx, dealing) : dealing;
  if (d.epoch !== ctx.epoch) {
    throw new VerifyError('VERIFY_INVALID_FIELD', `dealing for epoch ${d.epoch}, expected ${ctx.epoch}`, {
      field: 'dealing.epoch',
    });
  }
  if (dealerIndex !== undefined && d.dealerIndex !== dealerIndex) {
    throw new VerifyError('VERIFY_INVALID_FIELD', `dealing by ${d.dealerIndex}, expected ${dealerIndex}`, {
      field: 'dealing.dealerIndex',
    });
  }
  if (!verifyPok(d.ephemeralKey, d.ephemeralKeyBytes, pokContext(prep, d.dealerIndex), d.ephemeralProof)) {
    throw new VerifyError('VERIFY_PROOF_INVALID', 'dealing: ephemeral key proof does not verify', {
      field: 'dealing.ephemeralProof',
    });
  }
  return d;
}
