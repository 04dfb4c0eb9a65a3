/**
 * Portable crypto backend: pure JavaScript (noble), the one device images ship.
 * Measured on the project's machines: Ed25519 verify ~890/s, sign ~2,000/s; BLS FastAggregateVerify of a
 * 64-signer aggregate ~tens of ms (bench:core gives the current figure).
 */
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberBE, bytesToNumberLE } from '@noble/curves/utils.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { abytes, concatBytes } from './bytes.js';
import type { BlsPublicKey, Crypto } from './crypto.js';
import { ArgumentError } from './errors.js';

/** The POP ciphersuite's DST; noble defaults to the _NUL_ (basic) suite, blst uses this one. */
export const BLS_DST = 'BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_';

const bls = bls12_381.longSignatures;
type G1 = ReturnType<typeof bls.getPublicKey>;

const EdPoint = ed25519.Point;
const EdFn = EdPoint.Fn;

/**
 * RFC 8032 §5.1.7 verification, strict: canonical A and R (noble zip215:false decoding), A not of small order,
 * S < L, and the cofactorless equation [S]B = R + [k]A. noble's ed25519.verify checks the cofactored equation
 * instead, which accepts signatures that OpenSSL (the native backend) rejects ("Taming the many EdDSAs" cases
 * 4 and 5); the rule and its evidence are in gateway/crypto/native.ts and test/vectors/ed25519/edge-cases.json.
 */
function verifyEd25519(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (!(signature instanceof Uint8Array) || signature.length !== 64) return false;
  if (!(message instanceof Uint8Array) || !(publicKey instanceof Uint8Array) || publicKey.length !== 32) {
    return false;
  }
  try {
    const r = signature.subarray(0, 32);
    const s = bytesToNumberLE(signature.subarray(32));
    if (s >= EdFn.ORDER) return false;
    const A = EdPoint.fromBytes(publicKey, false);
    if (A.isSmallOrder()) return false;
    const R = EdPoint.fromBytes(r, false);
    const k = EdFn.create(bytesToNumberLE(sha512(concatBytes(r, publicKey, message))));
    return EdPoint.BASE.multiplyUnsafe(s).equals(R.add(A.multiplyUnsafe(k)));
  } catch {
    return false;
  }
}

/** noble reduces BLS secret keys mod r (accepting r + 1 as 1); blst refuses them: both must refuse. */
function blsSecretKey(secretKey: Uint8Array): Uint8Array {
  abytes(secretKey, 'secretKey', 32);
  const k = bytesToNumberBE(secretKey);
  if (k === 0n || k >= bls12_381.fields.Fr.ORDER) {
    throw new ArgumentError('secretKey', 'BLS secret key must be in [1, r)');
  }
  return secretKey;
}

interface NoblePublicKey extends BlsPublicKey {
  readonly point: G1;
}

function parseBlsPublicKey(bytes: Uint8Array): NoblePublicKey | undefined {
  if (!(bytes instanceof Uint8Array) || bytes.length !== 48) return undefined;
  try {
    const point = bls12_381.G1.Point.fromBytes(bytes);
    // fromBytes checks the curve equation; the subgroup check and identity rejection are ours to do.
    point.assertValidity();
    if (point.is0() || !point.isTorsionFree()) return undefined;
    return { bytes: bytes.slice(), point };
  } catch {
    return undefined;
  }
}

function parseSignature(bytes: Uint8Array) {
  if (!(bytes instanceof Uint8Array) || bytes.length !== 96) return undefined;
  try {
    const point = bls12_381.G2.Point.fromBytes(bytes);
    point.assertValidity();
    if (!point.isTorsionFree()) return undefined;
    return point;
  } catch {
    return undefined;
  }
}

export function createPortableCrypto(randomBytes: (length: number) => Uint8Array): Crypto {
  return {
    name: 'portable',
    sha256(...parts: Uint8Array[]): Uint8Array {
      if (parts.length === 1) return sha256(parts[0]!);
      const h = sha256.create();
      for (const p of parts) h.update(p);
      return h.digest();
    },
    ed25519: {
      getPublicKey: (secretKey) => ed25519.getPublicKey(abytes(secretKey, 'secretKey', 32)),
      sign: (message, secretKey) =>
        ed25519.sign(abytes(message, 'message'), abytes(secretKey, 'secretKey', 32)),
      verify: verifyEd25519,
    },
    bls: {
      getPublicKey: (secretKey) => bls.getPublicKey(blsSecretKey(secretKey)).toBytes(),
      sign: (message, secretKey) =>
        bls.sign(bls.hash(abytes(message, 'message'), BLS_DST), blsSecretKey(secretKey)).toBytes(),
      parsePublicKey: parseBlsPublicKey,
      verify(signature, message, publicKey) {
        const sig = parseSignature(signature);
        if (!sig) return false;
        try {
          return bls.verify(sig, bls.hash(message, BLS_DST), (publicKey as NoblePublicKey).point);
        } catch {
          return false;
        }
      },
      aggregateSignatures(signatures) {
        const points = [];
        for (const s of signatures) {
          const p = parseSignature(s);
          if (!p) return undefined;
          points.push(p);
        }
        if (points.length === 0) return undefined;
        return bls.aggregateSignatures(points).toBytes();
      },
      verifyAggregate(signature, message, publicKeys) {
        if (publicKeys.length === 0) return false;
        const sig = parseSignature(signature);
        if (!sig) return false;
        try {
          let agg = (publicKeys[0] as NoblePublicKey).point;
          for (let i = 1; i < publicKeys.length; i++) agg = agg.add((publicKeys[i] as NoblePublicKey).point);
          if (agg.is0()) return false;
          return bls.verify(sig, bls.hash(message, BLS_DST), agg);
        } catch {
          return false;
        }
      },
    },
    randomBytes,
  };
}
