/**
 * The emulated board's boot-ROM crypto: SHA-256 (FIPS 180-4) and the Ed25519 (RFC 8032) check of an image
 * manifest, with node:crypto.
 *
 * Why native here, when the device itself ships the portable (noble) backend: what this stands in for is the
 * board's bootloader, which on real hardware is C with a native or hardware SHA-256 (the SHA engines of the
 * STM32 HASH block, the ESP32 or the i.MX CAAM, or the ROM's own routines), not a JavaScript library. The
 * emulator runs on the host's Node 20 (`iosnet board emulate`), never on the device, so node:crypto is the
 * faithful stand-in; noble made the emulated bootloader ~10x slower than the code it models (measured on
 * the shared 2-core machine: sha256 of the 393 KB image 4.9 ms noble / 0.4 ms node:crypto; an Ed25519
 * verify 1.1-10 ms noble / ~0.08 ms node:crypto, loaded to quiet). The device light client (device/) is
 * not touched: it runs on the board's Node 18 as shipped, with the portable crypto.
 *
 * Ed25519 acceptance: the signer is the board's pinned release key, so the checks on the public key run
 * once, when its KeyObject is made (32 bytes, canonical encoding, not a small-order point: rules 1, 3, 4 of
 * gateway/crypto/native.ts). Per signature: 64 bytes, S < L (rule 2, re-checked here so it does not rest on
 * OpenSSL internals), R canonical (rule 3), then OpenSSL's cofactorless equation (rule 5), the same rule
 * the portable backend applies (test/unit/boards/boot-rom.test.ts cross-checks the two).
 */
import { createHash, createPublicKey, type Hash, type KeyObject, verify as nodeVerify } from 'node:crypto';
import type { Crypto, Ed25519Backend } from '../../core/crypto.js';

const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');

/** L = 2^252 + 27742317777372353535851937790883648493, little-endian. */
const L_LE = Buffer.from('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010', 'hex');

/** Canonical encodings of the 8 points of order dividing 8 (curve25519-dalek's EIGHT_TORSION). */
const SMALL_ORDER_HEX = new Set([
  '0100000000000000000000000000000000000000000000000000000000000000',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  '0000000000000000000000000000000000000000000000000000000000000080',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85',
  '0000000000000000000000000000000000000000000000000000000000000000',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
]);

function hexOf(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** S (signature bytes 32..63, little-endian) < L. */
function scalarBelowL(sig: Uint8Array): boolean {
  for (let i = 31; i >= 0; i--) {
    const s = sig[32 + i]!;
    const l = L_LE[i]!;
    if (s !== l) return s < l;
  }
  return false;
}

/** y < p = 2^255 - 19, and not (x = 0 with the sign bit set); `b` holds 32 bytes from `off`. */
function isCanonicalPoint(b: Uint8Array, off: number): boolean {
  const last = b[off + 31]!;
  let high = (last & 0x7f) === 0x7f;
  for (let i = 1; high && i < 31; i++) high = b[off + i] === 0xff;
  if (high && b[off]! >= 0xed) return false;
  if ((last & 0x80) === 0) return true;
  // x = 0 exactly when y = 1 or y = p - 1.
  if (high && b[off] === 0xec) return false;
  if (b[off] !== 1 || (last & 0x7f) !== 0) return true;
  for (let i = 1; i < 31; i++) if (b[off + i] !== 0) return true;
  return false;
}

/** A streaming SHA-256, as the bootloader's hash engine offers it: update as bytes arrive, digest once. */
export interface Sha256Stream {
  update(bytes: Uint8Array): void;
  digest(): Uint8Array;
}

export function createSha256Stream(): Sha256Stream {
  const h: Hash = createHash('sha256');
  return {
    update: (bytes) => void h.update(bytes),
    digest: () => new Uint8Array(h.digest()),
  };
}

function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/** Ed25519 verification with OpenSSL; KeyObjects kept per key (a board knows one: its pinned key). */
function createEd25519Verify(): Ed25519Backend['verify'] {
  const keys = new Map<string, KeyObject | null>();
  const keyOf = (publicKey: Uint8Array): KeyObject | null => {
    const id = hexOf(publicKey);
    let key = keys.get(id);
    if (key === undefined) {
      key =
        isCanonicalPoint(publicKey, 0) && !SMALL_ORDER_HEX.has(id)
          ? createPublicKey({ key: Buffer.concat([SPKI_ED25519, publicKey]), format: 'der', type: 'spki' })
          : null;
      // Bounded: a board sees its pinned key and, in refusals, a few foreign ones.
      if (keys.size >= 16) keys.clear();
      keys.set(id, key);
    }
    return key;
  };
  return (signature, message, publicKey) => {
    try {
      if (!(signature instanceof Uint8Array) || signature.length !== 64) return false;
      if (!(message instanceof Uint8Array)) return false;
      if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) return false;
      if (!scalarBelowL(signature) || !isCanonicalPoint(signature, 0)) return false;
      const key = keyOf(publicKey);
      return key !== null && nodeVerify(null, message, key, signature);
    } catch {
      return false;
    }
  };
}

/**
 * The crypto the emulated bootloader checks images with: `base` (the board's portable crypto, for anything
 * else) with sha256 and Ed25519 verification done natively, as the board's boot ROM would.
 */
export function withBootRomCrypto(base: Crypto): Crypto {
  if (base.name.endsWith('+boot-rom')) return base;
  return {
    name: `${base.name}+boot-rom`,
    sha256,
    ed25519: {
      getPublicKey: (secretKey) => base.ed25519.getPublicKey(secretKey),
      sign: (message, secretKey) => base.ed25519.sign(message, secretKey),
      verify: createEd25519Verify(),
    },
    bls: base.bls,
    randomBytes: (n) => base.randomBytes(n),
  };
}
