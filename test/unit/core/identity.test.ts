/**
 * Identities derived from keys (docs/protocol.md §5): stable vectors, checked a second way with node:crypto
 * and hand-built preimages; the field-shift attack on device identities; the shard map's uniformity.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { concatBytes, fromHex, toHex, utf8 } from '../../../core/bytes.js';
import { ArgumentError } from '../../../core/errors.js';
import {
  addressOf,
  blsPopMessage,
  deviceIdentityHash,
  shardOf,
  validatorIdOf,
} from '../../../core/identity.js';
import { deterministicRandomBytes, testCrypto } from '../../helpers/crypto.js';
import { blsKey, ed25519Key } from '../../helpers/keys.js';

/** H(tag, ...data) written out with node:crypto, independent of core/hash.ts. */
function nodeTaggedHash(tag: string, ...data: Uint8Array[]): string {
  const h = createHash('sha256').update(Uint8Array.of(tag.length)).update(tag);
  for (const d of data) h.update(d);
  return h.digest('hex');
}

// RFC 8032 §7.1 TEST 1 public key: a key that does not depend on our test-key derivation.
const RFC8032_PK = fromHex('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');

describe('stable vectors', () => {
  it('addresses', () => {
    expect(toHex(addressOf(testCrypto, RFC8032_PK))).toBe(
      '7caa422e2033b1921c68a3c6cfe314e9657dc574b21d3996dd09f63e726823a2',
    );
    const alice = ed25519Key('alice');
    expect(toHex(alice.publicKey)).toBe('e0b82b94135f09cf985fe9f4ec72a0b28b9fcabcd037a690d7dd9c3c3b62c29f');
    expect(toHex(alice.address)).toBe('9409d33bfa2e2e122cb84129bb0cb78d8518ab4ab3f1d63981d51b2697a2e93f');
    expect(toHex(alice.address)).toBe(nodeTaggedHash('iosnet/address/v1', alice.publicKey));
  });

  it('device identity hashes', () => {
    expect(toHex(deviceIdentityHash(testCrypto, 'rpi4', RFC8032_PK, '10000000abcdef01'))).toBe(
      'efafe2192b1a22177783e96c22b12f71976f3984717274a957debc5ff99fedd4',
    );
    const device = ed25519Key('device/rpi4-0001').publicKey;
    expect(toHex(deviceIdentityHash(testCrypto, 'rpi4', device, '10000000abcdef01'))).toBe(
      'f8b42a57d840261222805b97acbfe6ce2a22378b2869ae90cfcfdbe5de4d3522',
    );
    // Preimage by hand: CBOR [text "rpi4", bytes32 key, text "10000000abcdef01"].
    const preimage = concatBytes(
      Uint8Array.of(0x83, 0x64),
      utf8('rpi4'),
      Uint8Array.of(0x58, 0x20),
      RFC8032_PK,
      Uint8Array.of(0x70),
      utf8('10000000abcdef01'),
    );
    expect(nodeTaggedHash('iosnet/device-id/v1', preimage)).toBe(
      'efafe2192b1a22177783e96c22b12f71976f3984717274a957debc5ff99fedd4',
    );
  });

  it('validator ids and BLS proof-of-possession messages', () => {
    const bls = blsKey('validator/0').publicKey;
    expect(toHex(bls)).toBe(
      'b1af730562d3382acfdee58d4f193b57b1e8e24e0ba8296171b77c22f449810c79181d63062f8c51fd212f21f70ad92d',
    );
    expect(toHex(validatorIdOf(testCrypto, RFC8032_PK, bls))).toBe(
      'b8b3f6f069f79a3e4dfb891e1dcab888723728d29f5ef5a894304582a7b3ecfc',
    );
    expect(toHex(validatorIdOf(testCrypto, RFC8032_PK, bls))).toBe(
      nodeTaggedHash('iosnet/validator-id/v1', RFC8032_PK, bls),
    );
    expect(toHex(blsPopMessage(testCrypto, bls))).toBe(
      '827498616ab24cec584b5bf7b6cac39a2195e766b1a65a5b6919ca0af596bb7f',
    );
  });

  it('each identity kind hashes under its own domain tag', () => {
    const pk = ed25519Key('alice').publicKey;
    const plain = createHash('sha256').update(pk).digest('hex');
    expect(toHex(addressOf(testCrypto, pk))).not.toBe(plain);
    expect(nodeTaggedHash('iosnet/address/v1', pk)).not.toBe(nodeTaggedHash('iosnet/device-id/v1', pk));
  });
});

describe('device identity: no field-shift second preimage', () => {
  const pk = ed25519Key('device/rpi4-0001').publicKey;

  it('board "ab" + serial "c" differs from board "a" + serial "bc"', () => {
    const a = deviceIdentityHash(testCrypto, 'ab', pk, 'c');
    const b = deviceIdentityHash(testCrypto, 'a', pk, 'bc');
    expect(toHex(a)).not.toBe(toHex(b));
    // Why the preimage is a CBOR array: concatenating adjacent variable-length fields collides.
    expect(nodeTaggedHash('iosnet/device-id/v1', utf8('ab'), utf8('c'))).toBe(
      nodeTaggedHash('iosnet/device-id/v1', utf8('a'), utf8('bc')),
    );
  });

  it('moving characters between any split of the same string changes the hash', () => {
    const s = 'rpi4-10000000abcdef01';
    const seen = new Set<string>();
    for (let i = 1; i < s.length; i++)
      seen.add(toHex(deviceIdentityHash(testCrypto, s.slice(0, i), pk, s.slice(i))));
    expect(seen.size).toBe(s.length - 1);
  });

  it('the key and an empty serial are bound too', () => {
    const other = ed25519Key('device/rpi4-0002').publicKey;
    expect(toHex(deviceIdentityHash(testCrypto, 'rpi4', pk, ''))).not.toBe(
      toHex(deviceIdentityHash(testCrypto, 'rpi4', other, '')),
    );
  });

  it('bounds are in UTF-8 bytes; bad arguments are ArgumentErrors', () => {
    expect(() => deviceIdentityHash(testCrypto, 'b'.repeat(32), pk, 's'.repeat(64))).not.toThrow();
    expect(() => deviceIdentityHash(testCrypto, 'b'.repeat(33), pk, '')).toThrow(ArgumentError);
    expect(() => deviceIdentityHash(testCrypto, 'ü'.repeat(17), pk, '')).toThrow(ArgumentError);
    expect(() => deviceIdentityHash(testCrypto, 'rpi4', pk, 's'.repeat(65))).toThrow(ArgumentError);
    expect(() => deviceIdentityHash(testCrypto, 'rpi4', pk.subarray(0, 31), '')).toThrow(ArgumentError);
    expect(() => addressOf(testCrypto, new Uint8Array(33))).toThrow(ArgumentError);
  });

  it('[core bug] serials differing only by a lone surrogate vs U+FFFD get different identities', () => {
    // The CBOR writer encodes a lone surrogate as EF BF BD (U+FFFD), so "SN\ud800" and "SN\ufffd" hash to
    // the same identity: two registrations collide. Either argument check (checkText) or the writer must
    // refuse strings that are not well-formed UTF-16.
    let distinct: boolean;
    try {
      const a = deviceIdentityHash(testCrypto, 'rpi4', pk, 'SN\ud800');
      const b = deviceIdentityHash(testCrypto, 'rpi4', pk, 'SN\ufffd');
      distinct = toHex(a) !== toHex(b);
    } catch (e) {
      // Refusing the ill-formed string is a fix too (ArgumentError from checkText, or the writer's RangeError).
      expect(e instanceof ArgumentError || e instanceof RangeError).toBe(true);
      distinct = true;
    }
    expect(distinct).toBe(true);
  });
});

describe('shardOf', () => {
  it('is u32be(address[0..4]) mod shardCount', () => {
    const addr = new Uint8Array(32);
    addr.set([0x00, 0x00, 0x01, 0x02]);
    expect(shardOf(addr, 1)).toBe(0);
    expect(shardOf(addr, 7)).toBe(0x0102 % 7);
    addr.set([0xff, 0xff, 0xff, 0xff]);
    expect(shardOf(addr, 7)).toBe(0xffffffff % 7);
    expect(shardOf(addr, 64)).toBe(63);
    addr.set([0x80, 0, 0, 0]);
    expect(shardOf(addr, 3)).toBe(2 ** 31 % 3);
    addr.fill(0xff, 4);
    addr.set([0, 0, 0, 5]);
    expect(shardOf(addr, 4)).toBe(1); // bytes after the 4th do not count
  });

  it('rejects bad arguments', () => {
    const addr = new Uint8Array(32);
    expect(() => shardOf(addr, 0)).toThrow(ArgumentError);
    expect(() => shardOf(addr, 1.5)).toThrow(ArgumentError);
    expect(() => shardOf(addr, -1)).toThrow(ArgumentError);
    expect(() => shardOf(new Uint8Array(31), 4)).toThrow(ArgumentError);
  });

  it('spreads 10,000 random addresses uniformly over 1..64 shards (chi-square, p < 1e-6 bound)', () => {
    const random = deterministicRandomBytes('shardOf');
    const addresses = Array.from({ length: 10_000 }, () => addressOf(testCrypto, random(32)));
    for (let k = 1; k <= 64; k++) {
      const counts = new Array<number>(k).fill(0);
      for (const a of addresses) counts[shardOf(a, k)]!++;
      expect(counts.reduce((s, c) => s + c, 0)).toBe(addresses.length);
      if (k === 1) continue;
      const expected = addresses.length / k;
      const chi2 = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
      // Wilson-Hilferty: chi-square quantile for k-1 degrees of freedom at z = 4.75 (p ~ 1e-6).
      const dof = k - 1;
      const critical = dof * (1 - 2 / (9 * dof) + 4.75 * Math.sqrt(2 / (9 * dof))) ** 3;
      expect(chi2, `${k} shards: ${counts.join(',')}`).toBeLessThan(critical);
      expect(Math.min(...counts)).toBeGreaterThan(expected * 0.5);
    }
  });
});
