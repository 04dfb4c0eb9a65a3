/**
 * Edwards25519 pieces of the DKG: encryption of shares to members' Ed25519 node keys, the dealer's proof
 * of knowledge of its ephemeral key, and the complainer's Chaum-Pedersen proof (docs/beacon.md §3, §4).
 *
 * A node key is an Ed25519 public key X = [x]B, x = clamp(sha512(seed)[0..32]) (RFC 8032 §5.1.5); we use
 * x mod L. The dealer picks e, publishes E = [e]B and encrypts to member i under K_i = [e]X_i = [x_i]E.
 * All points that enter a proof are decoded strictly (canonical encoding, RFC 8032 §5.1.3) and must lie in
 * the prime-order subgroup and not be the identity: a point with a torsion component would let a prover
 * present K' = [x]E + T and still pass a cofactor-blind check (frame an honest dealer).
 *
 * Scalars of Edwards25519 are 32 bytes little-endian (as in Ed25519 signatures) and must be < L.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberLE, numberToBytesLE } from '@noble/curves/utils.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { concatBytes, utf8 } from '../../../core/bytes.js';
import { createPortableCrypto } from '../../../core/crypto-portable.js';
import { DomainTag, taggedHash, tagPrefix } from '../../../core/hash.js';

export const EdPoint = ed25519.Point;
export type EdPointT = typeof EdPoint.BASE;
export const L_ORDER: bigint = EdPoint.Fn.ORDER;
const Fn = EdPoint.Fn;

/** Tags of this module, registered in core's DomainTag (docs/protocol.md §2). */
export const DkgTag = {
  /** Challenge of the dealer's Schnorr proof of knowledge of its ephemeral key. */
  pok: DomainTag.dkgPok,
  /** Challenge of a complaint's Chaum-Pedersen proof. */
  dleq: DomainTag.dkgDleq,
  /** HKDF info prefix of the share-encryption key. */
  share: DomainTag.dkgShare,
  /** Dealing id = H(tag, dealing bytes), bound into complaints. */
  dealing: DomainTag.dkgDealing,
  // Local derivations (any choice interoperates; fixed so that runs are reproducible):
  coefficients: DomainTag.dkgCoefficients,
  nonce: DomainTag.dkgNonce,
  batch: DomainTag.dkgBatch,
} as const;

/** Hashing only: the DKG's hashes are a few per operation, so the portable sha256 is fine everywhere. */
const HASHER = createPortableCrypto(() => {
  throw new Error('beacon: randomness must come from the caller');
});

/** H(tag, parts...) = core's taggedHash: sha256(u8(len tag) || tag || parts). */
export function tagged(tag: string, ...parts: Uint8Array[]): Uint8Array {
  return taggedHash(HASHER, tag, ...parts);
}

/** A uniformly distributed scalar mod `order` from a secret seed: sha512(tag || seed || label || u32be(i)). */
export function expandScalar(tag: string, seed: Uint8Array, label: string, i: number, order: bigint): bigint {
  for (let ctr = 0; ; ctr++) {
    const idx = new Uint8Array(8);
    const dv = new DataView(idx.buffer);
    dv.setUint32(0, i);
    dv.setUint32(4, ctr);
    const wide = sha512(concatBytes(tagPrefix(tag), seed, utf8(label), idx));
    const s = bytesToNumberLE(wide) % order;
    if (s !== 0n) return s;
  }
}

export function edScalarToBytes(s: bigint): Uint8Array {
  return numberToBytesLE(s, 32);
}

/** A scalar < L from 32 little-endian bytes; undefined if ≥ L. */
export function edScalarFromBytes(b: Uint8Array): bigint | undefined {
  if (b.length !== 32) return undefined;
  const s = bytesToNumberLE(b);
  return s < L_ORDER ? s : undefined;
}

/** Challenge: LE(H(tag, parts)) mod L. */
function challenge(tag: string, ...parts: Uint8Array[]): bigint {
  return bytesToNumberLE(tagged(tag, ...parts)) % L_ORDER;
}

/**
 * Strict decoding of a 32-byte point: canonical (y < p, no "negative zero"), not the identity, and in the
 * prime-order subgroup. Undefined otherwise.
 */
export function decodePrimeOrderPoint(bytes: Uint8Array): EdPointT | undefined {
  if (!(bytes instanceof Uint8Array) || bytes.length !== 32) return undefined;
  try {
    const p = EdPoint.fromBytes(bytes, false);
    if (p.is0() || p.isSmallOrder() || !p.isTorsionFree()) return undefined;
    return p;
  } catch {
    return undefined;
  }
}

/** Strict decoding of a node key for encryption: canonical, not of small order (may have torsion). */
export function decodeNodeKey(bytes: Uint8Array): EdPointT | undefined {
  if (!(bytes instanceof Uint8Array) || bytes.length !== 32) return undefined;
  try {
    const p = EdPoint.fromBytes(bytes, false);
    return p.isSmallOrder() ? undefined : p;
  } catch {
    return undefined;
  }
}

/** The Ed25519 secret scalar x (mod L) and public key bytes of a 32-byte seed. */
export function nodeScalar(seed: Uint8Array): { x: bigint; publicKey: Uint8Array } {
  const ext = ed25519.utils.getExtendedPublicKey(seed);
  return { x: ext.scalar, publicKey: ext.pointBytes };
}

// ------------------------------------------------------------------------------ Schnorr PoK (dealer)

/** Proof (c || s) that the dealer knows e with E = [e]B, bound to the dealing context. */
export function provePok(e: bigint, E: Uint8Array, context: Uint8Array, nonceSeed: Uint8Array): Uint8Array {
  const r = expandScalar(DkgTag.nonce, concatBytes(nonceSeed, edScalarToBytes(e)), 'pok', 0, L_ORDER);
  const R = EdPoint.BASE.multiply(r).toBytes();
  const c = challenge(DkgTag.pok, context, E, R);
  const s = Fn.add(r, Fn.mul(c, e));
  return concatBytes(edScalarToBytes(c), edScalarToBytes(s));
}

export function verifyPok(E: EdPointT, Ebytes: Uint8Array, context: Uint8Array, proof: Uint8Array): boolean {
  if (proof.length !== 64) return false;
  const c = edScalarFromBytes(proof.subarray(0, 32));
  const s = edScalarFromBytes(proof.subarray(32));
  if (c === undefined || s === undefined) return false;
  const R = EdPoint.BASE.multiplyUnsafe(s).subtract(E.multiplyUnsafe(c));
  return challenge(DkgTag.pok, context, Ebytes, R.toBytes()) === c;
}

// ------------------------------------------------------------------- Chaum-Pedersen DLEQ (complainer)

/**
 * Proof (c || s) that log_B(X) = log_E(K): r ← H(secret, statement); R1 = [r]B, R2 = [r]E;
 * c = H(dleq tag, context || X || E || K || R1 || R2) mod L; s = r + c·x mod L.
 */
export function proveDleq(
  x: bigint,
  X: Uint8Array,
  E: EdPointT,
  Ebytes: Uint8Array,
  K: Uint8Array,
  context: Uint8Array,
): Uint8Array {
  const r = expandScalar(
    DkgTag.nonce,
    concatBytes(edScalarToBytes(x), context, X, Ebytes, K),
    'dleq',
    0,
    L_ORDER,
  );
  const R1 = EdPoint.BASE.multiply(r).toBytes();
  const R2 = E.multiply(r).toBytes();
  const c = challenge(DkgTag.dleq, context, X, Ebytes, K, R1, R2);
  const s = Fn.add(r, Fn.mul(c, x));
  return concatBytes(edScalarToBytes(c), edScalarToBytes(s));
}

/** All points must already be strictly decoded prime-order points (decodePrimeOrderPoint). */
export function verifyDleq(
  X: EdPointT,
  Xbytes: Uint8Array,
  E: EdPointT,
  Ebytes: Uint8Array,
  K: EdPointT,
  Kbytes: Uint8Array,
  context: Uint8Array,
  proof: Uint8Array,
): boolean {
  if (proof.length !== 64) return false;
  const c = edScalarFromBytes(proof.subarray(0, 32));
  const s = edScalarFromBytes(proof.subarray(32));
  if (c === undefined || s === undefined) return false;
  const R1 = EdPoint.BASE.multiplyUnsafe(s).subtract(X.multiplyUnsafe(c));
  const R2 = E.multiplyUnsafe(s).subtract(K.multiplyUnsafe(c));
  return challenge(DkgTag.dleq, context, Xbytes, Ebytes, Kbytes, R1.toBytes(), R2.toBytes()) === c;
}

// ------------------------------------------------------------------------------ share encryption

/**
 * key = HKDF-SHA256(IKM = K (32-byte point encoding), salt = none,
 *                   info = u8(len tag) || "iosnet/dkg-share/v1" || context || u16be(dealerIndex) || E || X, 32)
 * One key per (dealing, recipient); the share index makes every nonce unique under it.
 */
export function shareKey(
  K: Uint8Array,
  context: Uint8Array,
  dealerIndex: number,
  E: Uint8Array,
  X: Uint8Array,
) {
  const info = concatBytes(tagPrefix(DkgTag.share), context, u16be(dealerIndex), E, X);
  return hkdf(sha256, K, undefined, info, 32);
}

export function u16be(v: number): Uint8Array {
  return new Uint8Array([(v >> 8) & 0xff, v & 0xff]);
}

/** nonce = 10 zero bytes || u16be(shareIndex); AAD = u16be(dealerIndex) || u16be(shareIndex). */
function nonceAndAad(dealerIndex: number, shareIndex: number) {
  const nonce = new Uint8Array(12);
  nonce.set(u16be(shareIndex), 10);
  return { nonce, aad: concatBytes(u16be(dealerIndex), u16be(shareIndex)) };
}

export const ENCRYPTED_SHARE_BYTES = 48;

/** AES-256-GCM: 32-byte plaintext → ciphertext || 16-byte tag. */
export function encryptShare(
  key: Uint8Array,
  dealerIndex: number,
  shareIndex: number,
  plaintext: Uint8Array,
) {
  const { nonce, aad } = nonceAndAad(dealerIndex, shareIndex);
  const c = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: 16 });
  c.setAAD(aad);
  const out = new Uint8Array(ENCRYPTED_SHARE_BYTES);
  out.set(c.update(plaintext), 0);
  c.final();
  out.set(c.getAuthTag(), 32);
  return out;
}

/** The 32-byte plaintext, or undefined if authentication fails. */
export function decryptShare(
  key: Uint8Array,
  dealerIndex: number,
  shareIndex: number,
  ciphertext: Uint8Array,
): Uint8Array | undefined {
  if (ciphertext.length !== ENCRYPTED_SHARE_BYTES) return undefined;
  const { nonce, aad } = nonceAndAad(dealerIndex, shareIndex);
  try {
    const d = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: 16 });
    d.setAAD(aad);
    d.setAuthTag(ciphertext.subarray(32));
    const pt = d.update(ciphertext.subarray(0, 32));
    d.final();
    return new Uint8Array(pt);
  } catch {
    return undefined;
  }
}
