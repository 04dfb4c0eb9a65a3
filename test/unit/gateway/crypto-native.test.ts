/**
 * The native backend's own contract: bounded KeyObject caches, plain Uint8Array outputs, never throwing on
 * garbage, and the library behaviour its Ed25519 pre-checks rest on. Agreement with the portable backend is
 * test/unit/core/crypto-backends.test.ts.
 */
import { createPublicKey, verify as opensslVerify, randomFillSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberLE } from '@noble/curves/utils.js';
import { sha512 } from '@noble/hashes/sha2.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes, fromHex, toHex, utf8 } from '../../../core/bytes.js';
import { createPortableCrypto } from '../../../core/crypto-portable.js';
import { ArgumentError } from '../../../core/errors.js';
import { createNativeCrypto, defaultNativeCryptoOptions } from '../../../gateway/crypto/native.js';

const edgeCases: {
  name: string;
  message: string;
  publicKey: string;
  signature: string;
  libraries: { openssl: boolean; nobleZip215False: boolean };
}[] = JSON.parse(
  readFileSync(new URL('../../vectors/ed25519/edge-cases.json', import.meta.url), 'utf8'),
).cases;

const seed = (i: number) => new Uint8Array(32).fill(i + 1);
const msg = utf8('iosnet');

/** A plain Uint8Array (not a Buffer) that owns its whole ArrayBuffer. */
function expectPlain(b: Uint8Array, length: number): void {
  expect(Object.getPrototypeOf(b)).toBe(Uint8Array.prototype);
  expect(b.length).toBe(length);
  expect(b.byteOffset).toBe(0);
  expect(b.buffer.byteLength).toBe(length);
}

describe('createNativeCrypto', () => {
  it('returns plain Uint8Arrays that own their memory', () => {
    const c = createNativeCrypto();
    expectPlain(c.sha256(msg), 32);
    expectPlain(c.sha256(msg, msg), 32);
    expectPlain(c.sha256(new Uint8Array(100_000), msg), 32);
    expectPlain(c.ed25519.getPublicKey(seed(0)), 32);
    expectPlain(c.ed25519.sign(msg, seed(0)), 64);
    expectPlain(c.bls.getPublicKey(seed(0)), 48);
    const sig = c.bls.sign(msg, seed(0));
    expectPlain(sig, 96);
    expectPlain(c.bls.aggregateSignatures([sig, sig])!, 96);
    expectPlain(c.randomBytes(16), 16);
  });

  it('randomBytes: any length, fresh bytes, ArgumentError on a bad length', () => {
    const c = createNativeCrypto();
    expect(c.randomBytes(0).length).toBe(0);
    expect(c.randomBytes(70_000).length).toBe(70_000); // over getRandomValues' 64 KiB cap
    expect(c.randomBytes(32)).not.toEqual(c.randomBytes(32));
    for (const bad of [-1, 1.5, Number.NaN, '8']) {
      expect(() => c.randomBytes(bad as number)).toThrow(ArgumentError);
    }
  });

  it('refuses bad cache options', () => {
    expect(() => createNativeCrypto({ ed25519PublicKeyCacheSize: -1 })).toThrow(ArgumentError);
    expect(() => createNativeCrypto({ ed25519SecretKeyCacheSize: 1.5 })).toThrow(ArgumentError);
    const stats = createNativeCrypto().cacheStats();
    expect(stats.ed25519PublicKeys.capacity).toBe(defaultNativeCryptoOptions.ed25519PublicKeyCacheSize);
    expect(stats.ed25519SecretKeys.capacity).toBe(defaultNativeCryptoOptions.ed25519SecretKeyCacheSize);
  });
});

describe('Ed25519 KeyObject caches', () => {
  const portable = createPortableCrypto((n) => randomFillSync(new Uint8Array(n)));
  const keys = Array.from({ length: 12 }, (_, i) => portable.ed25519.getPublicKey(seed(i)));
  const sigs = Array.from({ length: 12 }, (_, i) => portable.ed25519.sign(msg, seed(i)));

  it('keeps at most `capacity` public keys, and evicts the least recently used', () => {
    const c = createNativeCrypto({ ed25519PublicKeyCacheSize: 3 });
    const verify = (i: number) => expect(c.ed25519.verify(sigs[i]!, msg, keys[i]!)).toBe(true);
    for (const i of [0, 1, 2]) verify(i);
    verify(0); // hit: 0 becomes the most recent, 1 the least
    verify(3); // evicts 1
    expect(c.cacheStats().ed25519PublicKeys).toMatchObject({ size: 3, hits: 1, misses: 4 });
    verify(0); // still cached
    expect(c.cacheStats().ed25519PublicKeys).toMatchObject({ hits: 2, misses: 4 });
    verify(1); // was evicted: a miss, still verifies
    expect(c.cacheStats().ed25519PublicKeys).toMatchObject({ size: 3, hits: 2, misses: 5 });
    for (let i = 0; i < 12; i++) verify(i);
    expect(c.cacheStats().ed25519PublicKeys.size).toBe(3);
  });

  it('never caches a key that fails the pre-checks', () => {
    const c = createNativeCrypto({ ed25519PublicKeyCacheSize: 10 });
    const smallOrder = fromHex('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa');
    const nonCanonical = fromHex('eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f');
    for (const pk of [
      smallOrder,
      nonCanonical,
      keys[0]!.subarray(0, 31),
      concatBytes(keys[0]!, Uint8Array.of(0)),
    ]) {
      expect(c.ed25519.verify(sigs[0]!, msg, pk)).toBe(false);
    }
    expect(c.cacheStats().ed25519PublicKeys.size).toBe(0);
  });

  it('keeps at most `capacity` secret keys; results do not depend on the cache', () => {
    const c = createNativeCrypto({ ed25519SecretKeyCacheSize: 2 });
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 5; i++) {
        expect(c.ed25519.getPublicKey(seed(i))).toEqual(keys[i]);
        expect(c.ed25519.sign(msg, seed(i))).toEqual(sigs[i]);
      }
    }
    expect(c.cacheStats().ed25519SecretKeys.size).toBe(2);
  });

  it('works with caching off (capacity 0)', () => {
    const c = createNativeCrypto({ ed25519PublicKeyCacheSize: 0, ed25519SecretKeyCacheSize: 0 });
    expect(c.ed25519.sign(msg, seed(0))).toEqual(sigs[0]);
    expect(c.ed25519.verify(sigs[0]!, msg, keys[0]!)).toBe(true);
    expect(c.cacheStats().ed25519PublicKeys.size).toBe(0);
    expect(c.cacheStats().ed25519SecretKeys.size).toBe(0);
  });

  it('hands out copies: mutating a returned public key does not touch the cache', () => {
    const c = createNativeCrypto();
    const pk = c.ed25519.getPublicKey(seed(0));
    pk.fill(0);
    expect(c.ed25519.getPublicKey(seed(0))).toEqual(keys[0]);
  });

  it('gives separate instances separate caches', () => {
    const a = createNativeCrypto();
    const b = createNativeCrypto();
    a.ed25519.verify(sigs[0]!, msg, keys[0]!);
    expect(a.cacheStats().ed25519PublicKeys.size).toBe(1);
    expect(b.cacheStats().ed25519PublicKeys.size).toBe(0);
  });
});

describe('never throws on garbage', () => {
  const c = createNativeCrypto({ ed25519PublicKeyCacheSize: 16 });
  const portable = createPortableCrypto((n) => randomFillSync(new Uint8Array(n)));
  const pk = c.bls.parsePublicKey(c.bls.getPublicKey(seed(0)))!;
  const blsSig = c.bls.sign(msg, seed(0));
  const anything = fc.oneof(
    fc.anything(),
    fc.uint8Array({ maxLength: 200 }),
    fc.constantFrom(new Uint8Array(32), new Uint8Array(48), new Uint8Array(64), new Uint8Array(96)),
  );

  it('Ed25519 verify: false for any arguments', () => {
    fc.assert(
      fc.property(anything, anything, anything, (s, m, k) => {
        expect(c.ed25519.verify(s as Uint8Array, m as Uint8Array, k as Uint8Array)).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('BLS parsePublicKey / verify / aggregateSignatures / verifyAggregate: undefined or false', () => {
    fc.assert(
      fc.property(anything, anything, fc.array(anything, { maxLength: 4 }), (s, m, list) => {
        expect(c.bls.parsePublicKey(s as Uint8Array)).toBeUndefined();
        expect(c.bls.verify(s as Uint8Array, msg, pk)).toBe(false);
        expect(c.bls.verify(blsSig, msg, s as never)).toBe(false);
        expect(c.bls.verify(blsSig, m as Uint8Array, list as never)).toBe(false);
        expect(c.bls.aggregateSignatures(list as Uint8Array[])).toBeUndefined();
        expect(c.bls.aggregateSignatures(s as Uint8Array[])).toBeUndefined();
        expect(c.bls.verifyAggregate(s as Uint8Array, msg, [pk])).toBe(false);
        expect(c.bls.verifyAggregate(blsSig, msg, list as never)).toBe(false);
        expect(c.bls.verifyAggregate(blsSig, m as Uint8Array, s as never)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('BLS: a key parsed by another backend is not ours (opaque): false, not a throw', () => {
    const foreign = portable.bls.parsePublicKey(c.bls.getPublicKey(seed(0)))!;
    expect(c.bls.verify(blsSig, msg, foreign)).toBe(false);
    expect(c.bls.verifyAggregate(blsSig, msg, [foreign])).toBe(false);
    expect(c.bls.verify(blsSig, msg, pk)).toBe(true);
  });

  it('sign and getPublicKey throw ArgumentError (never a bare library error) on bad arguments', () => {
    for (const bad of [undefined, 'seed', new Uint8Array(31), [1, 2, 3]]) {
      expect(() => c.ed25519.getPublicKey(bad as Uint8Array)).toThrow(ArgumentError);
      expect(() => c.ed25519.sign(msg, bad as Uint8Array)).toThrow(ArgumentError);
      expect(() => c.bls.getPublicKey(bad as Uint8Array)).toThrow(ArgumentError);
      expect(() => c.bls.sign(msg, bad as Uint8Array)).toThrow(ArgumentError);
    }
    expect(() => c.ed25519.sign('m' as unknown as Uint8Array, seed(0))).toThrow(ArgumentError);
    expect(() => c.bls.sign('m' as unknown as Uint8Array, seed(0))).toThrow(ArgumentError);
  });
});

describe('the library behaviour the Ed25519 pre-checks rest on (recorded in edge-cases.json)', () => {
  const spki = fromHex('302a300506032b6570032100');
  function openssl(sig: Uint8Array, m: Uint8Array, pk: Uint8Array): boolean {
    try {
      const key = createPublicKey({ key: Buffer.from(concatBytes(spki, pk)), format: 'der', type: 'spki' });
      return opensslVerify(null, m, key, sig);
    } catch {
      return false;
    }
  }

  it('OpenSSL accepts each of the 8 small-order keys with R = identity, S = 0 when [k]A = 0; we do not', () => {
    const c = createNativeCrypto();
    const T = ed25519.Point.fromBytes(
      fromHex('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a'),
    );
    const R = ed25519.Point.ZERO.toBytes();
    const sig = concatBytes(R, new Uint8Array(32));
    let P = T;
    const seen = new Set<string>();
    for (let i = 1; i <= 8; i++, P = P.add(T)) {
      const A = P.toBytes();
      seen.add(toHex(A));
      let m = utf8('');
      for (
        let n = 0;
        !P.multiplyUnsafe(ed25519.Point.Fn.create(bytesToNumberLE(sha512(concatBytes(R, A, m))))).is0();
        n++
      ) {
        m = utf8(`small-order ${n}`);
      }
      expect(openssl(sig, m, A), toHex(A)).toBe(true);
      expect(c.ed25519.verify(sig, m, A), toHex(A)).toBe(false);
    }
    expect(seen.size).toBe(8);
  });

  // If one of these fails after a Node (OpenSSL) or noble upgrade, re-derive the rule in native.ts's header.
  it.each(edgeCases)('$name', (v) => {
    const [sig, m, pk] = [fromHex(v.signature), fromHex(v.message), fromHex(v.publicKey)];
    expect(openssl(sig, m, pk)).toBe(v.libraries.openssl);
    let noble = false;
    try {
      noble = ed25519.verify(sig, m, pk, { zip215: false });
    } catch {}
    expect(noble).toBe(v.libraries.nobleZip215False);
  });
});
