/**
 * Native crypto backend for gateways: node:crypto (OpenSSL 3) for sha256 and Ed25519 (RFC 8032),
 * @chainsafe/blst for BLS12-381 (min-pk, ciphersuite BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_, blst's
 * default DST; test/unit/core/crypto-backends.test.ts checks it byte for byte against core/crypto-portable.ts).
 *
 * Ed25519 acceptance rule (both backends; consensus must not depend on which one a node runs). A signature
 * (R || S) on message M under public key A is valid iff all of:
 *   1. |sig| = 64, |A| = 32;
 *   2. S < L (no malleable S + L);
 *   3. A and R are canonical encodings: y < p, and not x = 0 with the sign bit set (RFC 8032 §5.1.3);
 *   4. A is not one of the 8 small-order points (noble's zip215:false rule; non-repudiation);
 *   5. [S]B = R + [k]A with k = SHA-512(R || A || M) mod L: the COFACTORLESS equation (RFC 8032 §5.1.7
 *      allows it; OpenSSL, BoringSSL, Go and libsodium check it).
 * R may have small order (RFC 8032 and noble allow it; libsodium does not). Evidence: the 12 "Taming the many
 * EdDSAs" cases and our extra cases (test/vectors/ed25519/edge-cases.json, with each library's raw verdict).
 * OpenSSL 3.0 alone accepts speccheck 0, 1 and 11, the identity as A in any encoding (y = p + 1 too) and a
 * 33-byte key (its DER import ignores the trailing byte): rules 1, 3 and 4 are the JS pre-checks below.
 * noble's ed25519.verify alone accepts speccheck 4 and 5: it checks the cofactored [8][S]B = [8]R + [8][k]A,
 * so the portable backend must check rule 5 itself. OpenSSL enforces rule 2 and, by comparing the re-encoded
 * R' with R's bytes, rule 3 for R; we re-check both in JS so the rule does not rest on OpenSSL internals.
 * The checks on A run once per public key (only keys that pass them enter the cache).
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  sign as nodeSign,
  verify as nodeVerify,
  hash as oneShotHash,
  randomFillSync,
} from 'node:crypto';
import {
  aggregateSignatures as blstAggregateSignatures,
  verify as blstVerify,
  fastAggregateVerify,
  PublicKey,
  SecretKey,
  Signature,
} from '@chainsafe/blst';
import { abytes, auint } from '../../core/bytes.js';
import type { BlsBackend, BlsPublicKey, Crypto, Ed25519Backend } from '../../core/crypto.js';
import { ArgumentError } from '../../core/errors.js';
import { latin1 } from '../util/latin1.js';

export interface NativeCryptoOptions {
  /** Ed25519 public KeyObjects kept (LRU). Creating one per verify halves the verify rate (measured). */
  ed25519PublicKeyCacheSize: number;
  /** Ed25519 secret KeyObjects kept (LRU); a gateway signs with a handful of keys. 0 disables the cache. */
  ed25519SecretKeyCacheSize: number;
}

export const defaultNativeCryptoOptions: NativeCryptoOptions = {
  ed25519PublicKeyCacheSize: 4096,
  ed25519SecretKeyCacheSize: 64,
};

export interface KeyCacheStats {
  size: number;
  capacity: number;
  hits: number;
  misses: number;
}

export interface NativeCrypto extends Crypto {
  /** For metrics and tests: the Ed25519 KeyObject caches. */
  cacheStats(): { ed25519PublicKeys: KeyCacheStats; ed25519SecretKeys: KeyCacheStats };
}

/** A bounded LRU over a Map (insertion order = recency: a hit re-inserts the entry). */
class LruCache<V> {
  private readonly map = new Map<string, V>();
  hits = 0;
  misses = 0;
  constructor(readonly capacity: number) {}

  get(key: string): V | undefined {
    const value = this.map.get(key);
    if (value === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.map.delete(key);
    this.map.set(key, value);
    return value;
  }

  set(key: string, value: V): void {
    if (this.capacity === 0) return;
    this.map.delete(key);
    if (this.map.size >= this.capacity) this.map.delete(this.map.keys().next().value!);
    this.map.set(key, value);
  }

  stats(): KeyCacheStats {
    return { size: this.map.size, capacity: this.capacity, hits: this.hits, misses: this.misses };
  }
}

/**
 * node:crypto returns Buffers. We hand out plain Uint8Arrays: Buffer#slice is a view, not a copy (aliasing
 * bugs in code written for Uint8Array), small Buffers may sit at an offset in a shared 8 KiB pool (`.buffer`
 * is not theirs), and vitest's toEqual already fails for Buffer vs Uint8Array of the same bytes (checked), as
 * would any comparison of our outputs with the portable backend's that looks at the type.
 * Digests and signatures own their ArrayBuffer, so this is a zero-copy re-wrap.
 */
function plain(buf: Uint8Array): Uint8Array {
  if (buf.byteOffset === 0 && buf.buffer.byteLength === buf.byteLength) {
    return new Uint8Array(buf.buffer, 0, buf.byteLength);
  }
  return new Uint8Array(buf);
}

/** Cache key: one char per byte (gateway/util/latin1.ts). */
const keyId = latin1;

// ---------------------------------------------------------------------------------------------- sha256

/** Above this total size, parts are streamed into one hash instead of being copied into the scratch. */
const SHA256_CONCAT_LIMIT = 16 * 1024;
/** Views of the scratch are cached for inputs up to this size (tags, ids, tree nodes, small records). */
const SHA256_VIEW_CACHE_LIMIT = 512;

// crypto.hash (Node >= 20.12) is 1.3-2x faster than createHash for one 200-byte part. Its 'buffer' output
// allocates an off-heap ArrayBuffer per digest: that is ~0.8 of the ~1.15 µs of hashing 83 bytes, while
// 'binary' (latin1: one char per byte) output plus a copy into a fresh Uint8Array costs ~0.32 µs in all
// (measured on the shared 2-core machine; gateway/state/hasher.ts uses the same trick). Several parts are
// copied into one reused scratch and hashed once: no Buffer.allocUnsafe (whose 8 KiB pool is refilled every
// ~100 small hashes), no concatenation. Older Node 20 falls back to createHash.
const hasOneShot = typeof oneShotHash === 'function';

/** Reused input of multi-part hashes (sha256 is synchronous, so it cannot be re-entered). */
const scratch = new Uint8Array(SHA256_CONCAT_LIMIT);
/** scratch.subarray(0, n) by n: creating a view per hash is a visible share of a 0.3 µs hash. */
const scratchViews: Uint8Array[] = [];

function digestOf(data: Uint8Array): Uint8Array {
  const s = oneShotHash('sha256', data, 'binary');
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = s.charCodeAt(i);
  return out;
}

function sha256(...parts: Uint8Array[]): Uint8Array {
  if (hasOneShot) {
    if (parts.length === 1) return digestOf(parts[0]!);
    let total = 0;
    // A part that is not a Uint8Array makes total NaN: the streaming path below handles or refuses it.
    for (const p of parts) total += p instanceof Uint8Array ? p.length : Number.NaN;
    if (total <= SHA256_CONCAT_LIMIT) {
      let off = 0;
      for (const p of parts) {
        scratch.set(p, off);
        off += p.length;
      }
      if (total > SHA256_VIEW_CACHE_LIMIT) return digestOf(scratch.subarray(0, total));
      let view = scratchViews[total];
      if (view === undefined) {
        view = scratch.subarray(0, total);
        scratchViews[total] = view;
      }
      return digestOf(view);
    }
  }
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return plain(h.digest());
}

// --------------------------------------------------------------------------------------------- Ed25519

const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');

/** L = 2^252 + 27742317777372353535851937790883648493, little-endian. */
const L_LE = Buffer.from('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010', 'hex');

/** Canonical encodings of the 8 points of order dividing 8 (curve25519-dalek's EIGHT_TORSION table). */
const SMALL_ORDER_ENCODINGS = new Set(
  [
    '0100000000000000000000000000000000000000000000000000000000000000',
    'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
    '0000000000000000000000000000000000000000000000000000000000000080',
    '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
    'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
    '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85',
    '0000000000000000000000000000000000000000000000000000000000000000',
    'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
  ].map((h) => keyId(Buffer.from(h, 'hex'))),
);

/** S (signature bytes 32..63, little-endian) < L. */
function scalarBelowL(sig: Uint8Array): boolean {
  for (let i = 31; i >= 0; i--) {
    const s = sig[32 + i]!;
    const l = L_LE[i]!;
    if (s !== l) return s < l;
  }
  return false; // S = L
}

/** Rule 3: y < p = 2^255 - 19, and not (x = 0 with the sign bit set); `b` holds 32 bytes from `off`. */
function isCanonicalPoint(b: Uint8Array, off: number): boolean {
  const last = b[off + 31]!;
  const sign = last & 0x80;
  // y >= p  <=>  bits 8..254 all set and the low byte >= 0xed (y = p..2^255-1).
  let high = (last & 0x7f) === 0x7f;
  for (let i = 1; high && i < 31; i++) high = b[off + i] === 0xff;
  if (high && b[off]! >= 0xed) return false;
  if (sign === 0) return true;
  // x = 0 exactly when y = 1 or y = p - 1 = 0x7fff...ffec.
  if (high && b[off] === 0xec) return false;
  if (b[off] !== 1 || (last & 0x7f) !== 0) return true;
  for (let i = 1; i < 31; i++) if (b[off + i] !== 0) return true;
  return false;
}

interface SecretKeyEntry {
  readonly key: KeyObject;
  publicKey: Uint8Array | undefined;
}

function createEd25519(options: NativeCryptoOptions) {
  const publicKeys = new LruCache<KeyObject>(options.ed25519PublicKeyCacheSize);
  const secretKeys = new LruCache<SecretKeyEntry>(options.ed25519SecretKeyCacheSize);

  function secretKeyOf(secretKey: Uint8Array): SecretKeyEntry {
    abytes(secretKey, 'secretKey', 32);
    const id = keyId(secretKey);
    let entry = secretKeys.get(id);
    if (entry === undefined) {
      const der = Buffer.concat([PKCS8_ED25519, secretKey]);
      entry = { key: createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }), publicKey: undefined };
      secretKeys.set(id, entry);
    }
    return entry;
  }

  /** Derived on first use only: deriving and exporting it costs as much as creating the KeyObject. */
  function publicKeyBytesOf(entry: SecretKeyEntry): Uint8Array {
    if (entry.publicKey === undefined) {
      const spki = createPublicKey(entry.key).export({ format: 'der', type: 'spki' });
      entry.publicKey = new Uint8Array(spki.subarray(SPKI_ED25519.length));
    }
    return entry.publicKey;
  }

  /** A KeyObject for a public key that passes rules 1, 3 and 4; undefined otherwise. */
  function publicKeyOf(publicKey: Uint8Array): KeyObject | undefined {
    if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) return undefined;
    const id = keyId(publicKey);
    let key = publicKeys.get(id);
    if (key === undefined) {
      if (!isCanonicalPoint(publicKey, 0) || SMALL_ORDER_ENCODINGS.has(id)) return undefined;
      key = createPublicKey({ key: Buffer.concat([SPKI_ED25519, publicKey]), format: 'der', type: 'spki' });
      publicKeys.set(id, key);
    }
    return key;
  }

  const backend: Ed25519Backend = {
    getPublicKey: (secretKey) => publicKeyBytesOf(secretKeyOf(secretKey)).slice(),
    sign(message, secretKey) {
      abytes(message, 'message');
      return plain(nodeSign(null, message, secretKeyOf(secretKey).key));
    },
    verify(signature, message, publicKey) {
      try {
        if (!(signature instanceof Uint8Array) || signature.length !== 64) return false;
        if (!(message instanceof Uint8Array)) return false;
        if (!scalarBelowL(signature) || !isCanonicalPoint(signature, 0)) return false;
        const key = publicKeyOf(publicKey);
        return key !== undefined && nodeVerify(null, message, key, signature);
      } catch {
        return false;
      }
    },
  };
  return { backend, publicKeys, secretKeys };
}

// ------------------------------------------------------------------------------------------------- BLS

/** r, the order of G1/G2, big-endian: secret keys must lie in [1, r). */
const BLS_R_BE = Buffer.from('73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001', 'hex');

/**
 * Throws ArgumentError unless 1 <= sk < r. blst rejects the same keys but with a bare Error; noble reduces
 * sk mod r (accepting r+1 as 1), so the rule is checked here, identically in both backends.
 */
function blsSecretKey(secretKey: Uint8Array): SecretKey {
  abytes(secretKey, 'secretKey', 32);
  let nonzero = 0;
  for (let i = 0; i < 32; i++) nonzero |= secretKey[i]!;
  let below = false; // sk < r, big-endian: decided at the first differing byte
  for (let i = 0; i < 32; i++) {
    if (secretKey[i] !== BLS_R_BE[i]) {
      below = secretKey[i]! < BLS_R_BE[i]!;
      break;
    }
  }
  if (nonzero === 0 || !below) throw new ArgumentError('secretKey', 'BLS secret key must be in [1, r)');
  return SecretKey.fromBytes(secretKey);
}

/** Owns the parsed blst key; other backends' BlsPublicKey objects are not accepted (they are opaque). */
class NativeBlsPublicKey implements BlsPublicKey {
  constructor(
    readonly bytes: Uint8Array,
    readonly key: PublicKey,
  ) {}
}

function parseBlsPublicKey(bytes: Uint8Array): BlsPublicKey | undefined {
  // 48 bytes = compressed only (blst would also take 96-byte uncompressed keys; the portable backend does not).
  if (!(bytes instanceof Uint8Array) || bytes.length !== 48) return undefined;
  try {
    // pkValidate: rejects the identity and points outside the r-order subgroup.
    return new NativeBlsPublicKey(bytes.slice(), PublicKey.fromBytes(bytes, true));
  } catch {
    return undefined;
  }
}

/** A subgroup-checked signature; the identity is allowed (as in the portable backend: it never verifies). */
function parseBlsSignature(bytes: Uint8Array): Signature | undefined {
  if (!(bytes instanceof Uint8Array) || bytes.length !== 96) return undefined;
  try {
    return Signature.fromBytes(bytes, true, false);
  } catch {
    return undefined;
  }
}

const bls: BlsBackend = {
  getPublicKey: (secretKey) => blsSecretKey(secretKey).toPublicKey().toBytes(),
  sign(message, secretKey) {
    abytes(message, 'message');
    return blsSecretKey(secretKey).sign(message).toBytes();
  },
  parsePublicKey: parseBlsPublicKey,
  verify(signature, message, publicKey) {
    try {
      if (!(message instanceof Uint8Array) || !(publicKey instanceof NativeBlsPublicKey)) return false;
      const sig = parseBlsSignature(signature);
      return sig !== undefined && blstVerify(message, publicKey.key, sig, false, false);
    } catch {
      return false;
    }
  },
  aggregateSignatures(signatures) {
    try {
      if (!Array.isArray(signatures) || signatures.length === 0) return undefined;
      const parsed: Signature[] = [];
      for (const s of signatures) {
        const sig = parseBlsSignature(s);
        if (sig === undefined) return undefined;
        parsed.push(sig);
      }
      return blstAggregateSignatures(parsed, false).toBytes();
    } catch {
      return undefined;
    }
  },
  verifyAggregate(signature, message, publicKeys) {
    try {
      if (!(message instanceof Uint8Array) || !Array.isArray(publicKeys) || publicKeys.length === 0)
        return false;
      const keys: PublicKey[] = [];
      for (const pk of publicKeys) {
        if (!(pk instanceof NativeBlsPublicKey)) return false;
        keys.push(pk.key);
      }
      const sig = parseBlsSignature(signature);
      // Keys were validated when parsed; blst returns false when they sum to the identity (as the portable
      // backend does), which only a rogue-key set could reach: proofs of possession keep those out.
      return sig !== undefined && fastAggregateVerify(message, keys, sig, false);
    } catch {
      return false;
    }
  },
};

// --------------------------------------------------------------------------------------------- factory

export function createNativeCrypto(options: Partial<NativeCryptoOptions> = {}): NativeCrypto {
  const opts = { ...defaultNativeCryptoOptions, ...options };
  auint(opts.ed25519PublicKeyCacheSize, 'ed25519PublicKeyCacheSize');
  auint(opts.ed25519SecretKeyCacheSize, 'ed25519SecretKeyCacheSize');
  const ed = createEd25519(opts);
  return {
    name: 'native',
    sha256,
    ed25519: ed.backend,
    bls,
    randomBytes(length: number): Uint8Array {
      // randomFillSync into a fresh Uint8Array: no pooled Buffer, no 64 KiB cap of getRandomValues.
      return randomFillSync(new Uint8Array(auint(length, 'length')));
    },
    cacheStats: () => ({
      ed25519PublicKeys: ed.publicKeys.stats(),
      ed25519SecretKeys: ed.secretKeys.stats(),
    }),
  };
}
