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
 * Ed25519 acceptance: the gateway's native backend (gateway/crypto/native.ts: 64-byte signatures, S < L,
 * canonical R and key, no small-order key, then OpenSSL's cofactorless equation), the same rules as the
 * portable backend (test/unit/boards/boot-rom.test.ts cross-checks the two).
 */
import { createHash, type Hash } from 'node:crypto';
import type { Crypto } from '../../core/crypto.js';
import { createNativeCrypto, type NativeCrypto } from '../../gateway/crypto/native.js';

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

let native: NativeCrypto | undefined;

/**
 * The crypto the emulated bootloader checks images with: `base` (the board's portable crypto, for anything
 * else) with sha256 and Ed25519 verification done natively, as the board's boot ROM would.
 */
export function withBootRomCrypto(base: Crypto): Crypto {
  if (base.name.endsWith('+boot-rom')) return base;
  // A board knows one key (its pinned release key) and, in refusals, a few foreign ones.
  native ??= createNativeCrypto({ ed25519PublicKeyCacheSize: 16, ed25519SecretKeyCacheSize: 0 });
  const rom = native;
  return {
    name: `${base.name}+boot-rom`,
    sha256: (...parts) => rom.sha256(...parts),
    ed25519: {
      getPublicKey: (secretKey) => base.ed25519.getPublicKey(secretKey),
      sign: (message, secretKey) => base.ed25519.sign(message, secretKey),
      verify: (signature, message, publicKey) => rom.ed25519.verify(signature, message, publicKey),
    },
    bls: base.bls,
    randomBytes: (n) => base.randomBytes(n),
  };
}
