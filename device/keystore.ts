/**
 * The device's own Ed25519 key (docs/device.md §Keys). Generated on the device at first boot from the
 * platform's CSPRNG, stored in one file readable by the device user only (mode 0600, in a 0700 folder),
 * and never exported: the secret lives in a closure, so only the public key, the identity hash and
 * signatures leave this module. A key file that others could read is refused, not repaired: the key may
 * already be copied, and the operator must decide (re-key and re-register).
 *
 * Key file = [1, seed (32 bytes)], canonical CBOR, 37 bytes.
 * Device identity hash = H("iosnet/device-id/v1", cbor([boardId, publicKey, hardwareSerial])) (core/identity.ts).
 */
import {
  closeSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { CborReader, CborWriter } from '../core/cbor.js';
import type { Crypto } from '../core/crypto.js';
import { addressOf, deviceIdentityHash } from '../core/identity.js';
import { DeviceError, deviceFail } from './errors.js';

export const KEY_FILE_VERSION = 1;
export const KEY_FILE_MODE = 0o600;

export interface DeviceKeyStore {
  readonly publicKey: Uint8Array;
  /** Account address of the device key (H("iosnet/address/v1", publicKey)). */
  readonly address: Uint8Array;
  readonly identityHash: Uint8Array;
  readonly boardId: string;
  readonly hardwareSerial: string;
  /** Ed25519 signature of `message` by the device key. */
  sign(message: Uint8Array): Uint8Array;
}

export interface KeyStoreOptions {
  readonly crypto: Crypto;
  readonly boardId: string;
  readonly hardwareSerial: string;
}

function keyStoreFromSeed(opts: KeyStoreOptions, seed: Uint8Array): DeviceKeyStore {
  const { crypto } = opts;
  const secret = seed.slice();
  const publicKey = crypto.ed25519.getPublicKey(secret);
  return Object.freeze({
    publicKey,
    address: addressOf(crypto, publicKey),
    identityHash: deviceIdentityHash(crypto, opts.boardId, publicKey, opts.hardwareSerial),
    boardId: opts.boardId,
    hardwareSerial: opts.hardwareSerial,
    sign: (message: Uint8Array) => crypto.ed25519.sign(message, secret),
  });
}

/** A key held in memory only (tests, and boards whose key lives in a secure element behind `sign`). */
export function createMemoryKeyStore(opts: KeyStoreOptions & { readonly seed?: Uint8Array }): DeviceKeyStore {
  return keyStoreFromSeed(opts, opts.seed ?? opts.crypto.randomBytes(32));
}

export function encodeKeyFile(seed: Uint8Array): Uint8Array {
  return new CborWriter(40).array(2).uint(KEY_FILE_VERSION).bytes(seed).finish();
}

export function decodeKeyFile(bytes: Uint8Array, path: string): Uint8Array {
  try {
    const r = new CborReader(bytes);
    r.array('keyFile', 2);
    const version = r.uint('keyFile.version');
    if (version !== KEY_FILE_VERSION) throw new Error(`unknown key file version ${version}`);
    const seed = r.bytesField('keyFile.seed', 32);
    r.end('keyFile');
    return seed;
  } catch (err) {
    return deviceFail('DEVICE_KEY_CORRUPT', `key file ${path} is not a device key`, err, { path });
  }
}

export interface OpenedKeyStore {
  readonly keyStore: DeviceKeyStore;
  /** True when this call generated the key (first boot). */
  readonly created: boolean;
}

/**
 * Loads the key at `path`, or on first boot generates one and writes it with mode 0600 (exclusive create of
 * a temporary file, fsync, rename: a power cut leaves either no key or a whole one).
 */
export function openFileKeyStore(opts: KeyStoreOptions & { readonly path: string }): OpenedKeyStore {
  const { path } = opts;
  let stat: import('node:fs').Stats | undefined;
  try {
    stat = lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (stat) {
    if (!stat.isFile()) {
      throw new DeviceError('DEVICE_KEY_CORRUPT', `key file ${path} is not a regular file`, { path });
    }
    if ((stat.mode & 0o077) !== 0) {
      throw new DeviceError(
        'DEVICE_KEY_PERMISSIONS',
        `key file ${path} has mode ${(stat.mode & 0o777).toString(8)}: others may have read the key; expected 600`,
        { path, mode: stat.mode & 0o777 },
      );
    }
    const seed = decodeKeyFile(new Uint8Array(readFileSync(path)), path);
    return { keyStore: keyStoreFromSeed(opts, seed), created: false };
  }
  const seed = opts.crypto.randomBytes(32);
  const keyStore = keyStoreFromSeed(opts, seed);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'wx', KEY_FILE_MODE);
  try {
    writeSync(fd, encodeKeyFile(seed));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  seed.fill(0);
  return { keyStore, created: true };
}
