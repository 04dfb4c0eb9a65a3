/**
 * The portable (noble) backend with deterministic randomness, for tests and vector generation.
 * Signatures do not use randomness (Ed25519 is deterministic, RFC 8032; BLS signs H(m)), so every fixture
 * built with testCrypto is byte-stable; only explicit randomBytes() calls consume the stream below.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, u64be, utf8 } from '../../core/bytes.js';
import type { Crypto } from '../../core/crypto.js';
import { createPortableCrypto } from '../../core/crypto-portable.js';

/**
 * A reproducible byte stream: block i = sha256("iosnet-test/random/" + seed || u64be(i)). Each call
 * continues where the previous one stopped, so the same sequence of calls gives the same bytes.
 */
export function deterministicRandomBytes(seed: string): (length: number) => Uint8Array {
  const prefix = utf8(`iosnet-test/random/${seed}`);
  let counter = 0;
  let pool: Uint8Array = new Uint8Array(0);
  return (length: number) => {
    if (!Number.isSafeInteger(length) || length < 0)
      throw new RangeError(`randomBytes: bad length ${length}`);
    while (pool.length < length) pool = concatBytes(pool, sha256(concatBytes(prefix, u64be(counter++))));
    const out = pool.slice(0, length);
    pool = pool.slice(length);
    return out;
  };
}

export function createTestCrypto(seed = 'testCrypto'): Crypto {
  return createPortableCrypto(deterministicRandomBytes(seed));
}

/** Shared instance: deterministic as long as a test file's calls to randomBytes() happen in a fixed order. */
export const testCrypto: Crypto = /* @__PURE__ */ createTestCrypto();
