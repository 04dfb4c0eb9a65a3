/**
 * Identities derived from keys (docs/protocol.md §Identity):
 *   address          = H("iosnet/address/v1", ed25519PublicKey)                      32 bytes
 *   device identity  = H("iosnet/device-id/v1", cbor([boardId, devicePublicKey, serial]))
 *   validator id     = H("iosnet/validator-id/v1", nodePublicKey || blsPublicKey)
 *   shard of address = u32be(address[0..4]) mod shardCount
 * The device identity hashes a CBOR array rather than a concatenation so that variable-length strings
 * cannot be shifted between fields ("ab"+"c" vs "a"+"bc") to forge a second preimage.
 */
import { abytes, auint } from './bytes.js';
import { CborWriter } from './cbor.js';
import type { Crypto } from './crypto.js';
import { ArgumentError } from './errors.js';
import { DomainTag, taggedHash } from './hash.js';

export const ED25519_PUBLIC_KEY_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;
export const BLS_PUBLIC_KEY_BYTES = 48;
export const BLS_SIGNATURE_BYTES = 96;
export const HASH_BYTES = 32;
export const MAX_BOARD_ID_BYTES = 32;
export const MAX_SERIAL_BYTES = 64;
export const MAX_CHAIN_ID_BYTES = 32;

export function addressOf(crypto: Crypto, publicKey: Uint8Array): Uint8Array {
  abytes(publicKey, 'publicKey', ED25519_PUBLIC_KEY_BYTES);
  return taggedHash(crypto, DomainTag.address, publicKey);
}

export function deviceIdentityHash(
  crypto: Crypto,
  boardId: string,
  devicePublicKey: Uint8Array,
  hardwareSerial: string,
): Uint8Array {
  abytes(devicePublicKey, 'devicePublicKey', ED25519_PUBLIC_KEY_BYTES);
  checkText(boardId, 'boardId', MAX_BOARD_ID_BYTES);
  checkText(hardwareSerial, 'hardwareSerial', MAX_SERIAL_BYTES);
  const encoded = new CborWriter(128)
    .array(3)
    .text(boardId)
    .bytes(devicePublicKey)
    .text(hardwareSerial)
    .finish();
  return taggedHash(crypto, DomainTag.deviceIdentity, encoded);
}

export function validatorIdOf(
  crypto: Crypto,
  nodePublicKey: Uint8Array,
  blsPublicKey: Uint8Array,
): Uint8Array {
  abytes(nodePublicKey, 'nodePublicKey', ED25519_PUBLIC_KEY_BYTES);
  abytes(blsPublicKey, 'blsPublicKey', BLS_PUBLIC_KEY_BYTES);
  return taggedHash(crypto, DomainTag.validatorId, nodePublicKey, blsPublicKey);
}

/**
 * The message a BLS key signs to prove possession of its secret key. Checked when a validator registers,
 * so that an aggregate of same-message signatures cannot be forged with a rogue key (Boneh et al., 2018).
 */
export function blsPopMessage(crypto: Crypto, blsPublicKey: Uint8Array): Uint8Array {
  abytes(blsPublicKey, 'blsPublicKey', BLS_PUBLIC_KEY_BYTES);
  return taggedHash(crypto, DomainTag.blsPop, blsPublicKey);
}

export function shardOf(address: Uint8Array, shardCount: number): number {
  abytes(address, 'address', HASH_BYTES);
  auint(shardCount, 'shardCount');
  if (shardCount < 1) throw new ArgumentError('shardCount', 'must be at least 1');
  // Modulo bias is below shardCount / 2^32: negligible for any realistic shard count.
  const u32 = ((address[0]! << 24) | (address[1]! << 16) | (address[2]! << 8) | address[3]!) >>> 0;
  return u32 % shardCount;
}

const encoder = /* @__PURE__ */ new TextEncoder();
export function checkText(value: unknown, argument: string, maxBytes: number): string {
  if (typeof value !== 'string') throw new ArgumentError(argument, 'expected a string');
  // A lone surrogate would be encoded as U+FFFD, so two different strings would hash the same.
  if (/\p{Cs}/u.test(value)) throw new ArgumentError(argument, 'not well-formed UTF-16 (lone surrogate)');
  if (encoder.encode(value).length > maxBytes)
    throw new ArgumentError(argument, `longer than ${maxBytes} bytes`);
  return value;
}
