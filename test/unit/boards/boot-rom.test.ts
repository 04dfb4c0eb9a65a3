/**
 * The emulated bootloader's native crypto (boards/emulator/boot-rom.ts) gives the portable backend's answers:
 * sha256 one-shot and streamed, and Ed25519 verification on the RFC 8032 vectors and the edge cases of
 * iosnet's acceptance rule (test/vectors/ed25519).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createSha256Stream, withBootRomCrypto } from '../../../boards/emulator/boot-rom.js';
import { fromHex } from '../../../core/bytes.js';
import { testCrypto } from '../../helpers/crypto.js';

interface Case {
  readonly name: string;
  readonly expected?: 'accept' | 'reject';
  readonly message: string;
  readonly publicKey: string;
  readonly signature: string;
}

function vectors(file: string): Case[] {
  const v = JSON.parse(readFileSync(new URL(`../../vectors/ed25519/${file}`, import.meta.url), 'utf8')) as {
    cases?: Case[];
    vectors?: Case[];
  };
  return v.cases ?? v.vectors ?? [];
}

const rom = withBootRomCrypto(testCrypto);

describe('boot-ROM crypto (emulated bootloader)', () => {
  it('hashes like the portable sha256, one-shot, in parts and streamed', () => {
    const data = new Uint8Array(100_000).map((_, i) => (i * 131) ^ (i >> 5));
    expect(rom.sha256(data)).toEqual(testCrypto.sha256(data));
    expect(rom.sha256(data.subarray(0, 7), data.subarray(7))).toEqual(testCrypto.sha256(data));
    const s = createSha256Stream();
    for (let i = 0; i < data.length; i += 32768) s.update(data.subarray(i, i + 32768));
    expect(s.digest()).toEqual(testCrypto.sha256(data));
  });

  it('verifies Ed25519 exactly as the portable backend on the vectors and edge cases', () => {
    const cases = [...vectors('rfc8032.json'), ...vectors('edge-cases.json')];
    expect(cases.length).toBeGreaterThan(12);
    for (const c of cases) {
      const sig = fromHex(c.signature);
      const msg = fromHex(c.message);
      const key = fromHex(c.publicKey);
      const want = testCrypto.ed25519.verify(sig, msg, key);
      if (c.expected) expect(want, c.name).toBe(c.expected === 'accept');
      expect(rom.ed25519.verify(sig, msg, key), c.name).toBe(want);
    }
  });

  it('refuses a tampered message, signature or key, and malformed lengths', () => {
    const secret = new Uint8Array(32).fill(9);
    const pub = testCrypto.ed25519.getPublicKey(secret);
    const msg = new TextEncoder().encode('iosnet manifest');
    const sig = testCrypto.ed25519.sign(msg, secret);
    expect(rom.ed25519.verify(sig, msg, pub)).toBe(true);
    expect(rom.ed25519.verify(sig, new TextEncoder().encode('iosnet manifesT'), pub)).toBe(false);
    const bad = sig.slice();
    bad[10]! ^= 1;
    expect(rom.ed25519.verify(bad, msg, pub)).toBe(false);
    expect(rom.ed25519.verify(sig, msg, testCrypto.ed25519.getPublicKey(new Uint8Array(32).fill(8)))).toBe(
      false,
    );
    expect(rom.ed25519.verify(sig.subarray(0, 63), msg, pub)).toBe(false);
    expect(rom.ed25519.verify(sig, msg, pub.subarray(0, 31))).toBe(false);
    // Wrapping twice changes nothing (the emulator wraps whatever crypto it is given).
    expect(withBootRomCrypto(rom)).toBe(rom);
  });
});
