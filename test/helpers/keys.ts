/**
 * Deterministic test keys: every key is derived from a human-readable label with sha256, so fixtures,
 * vectors and failures are reproducible across runs and machines. Never use these outside tests.
 *   ed25519 seed = sha256("iosnet-test/ed25519/" + label)
 *   BLS secret   = noble's randomSecretKey(seed48), seed48 = sha256("iosnet-test/bls-a/" + label) ||
 *                  sha256("iosnet-test/bls-b/" + label)[0..16]: reduced into 1..r-1 (a valid, nonzero scalar)
 */
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, utf8 } from '../../core/bytes.js';
import { addressOf, blsPopMessage } from '../../core/identity.js';
import { testCrypto } from './crypto.js';

export interface Ed25519TestKey {
  readonly label: string;
  /** 32-byte seed (RFC 8032 secret key). */
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly address: Uint8Array;
}

export interface BlsTestKey {
  readonly label: string;
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

export function labelHash(domain: string, label: string): Uint8Array {
  return sha256(utf8(`iosnet-test/${domain}/${label}`));
}

const edCache = new Map<string, Ed25519TestKey>();
export function ed25519Key(label: string): Ed25519TestKey {
  let k = edCache.get(label);
  if (!k) {
    const secretKey = labelHash('ed25519', label);
    const publicKey = testCrypto.ed25519.getPublicKey(secretKey);
    k = { label, secretKey, publicKey, address: addressOf(testCrypto, publicKey) };
    edCache.set(label, k);
  }
  return k;
}

/** A valid BLS12-381 secret key (32 bytes, 1 <= sk < r) derived from the label. */
export function blsSecretKey(label: string): Uint8Array {
  const seed = concatBytes(labelHash('bls-a', label), labelHash('bls-b', label).subarray(0, 16));
  return bls12_381.utils.randomSecretKey(seed);
}

const blsCache = new Map<string, BlsTestKey>();
export function blsKey(label: string): BlsTestKey {
  let k = blsCache.get(label);
  if (!k) {
    const secretKey = blsSecretKey(label);
    k = { label, secretKey, publicKey: testCrypto.bls.getPublicKey(secretKey) };
    blsCache.set(label, k);
  }
  return k;
}

// BLS signing costs ~30 ms with noble; fixtures sign the same messages again and again.
const blsSignatures = new Map<string, Uint8Array>();
export function blsSign(key: BlsTestKey, message: Uint8Array): Uint8Array {
  const id = `${key.label}/${message.join(',')}`;
  let s = blsSignatures.get(id);
  if (!s) {
    s = testCrypto.bls.sign(message, key.secretKey);
    blsSignatures.set(id, s);
  }
  return s;
}

/** Proof of possession of a BLS key: its signature over blsPopMessage(publicKey). */
export function blsPop(key: BlsTestKey): Uint8Array {
  return blsSign(key, blsPopMessage(testCrypto, key.publicKey));
}
