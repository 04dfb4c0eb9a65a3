/**
 * Key files: the one on-disk form of an operator's keys, read by `iosnet genesis` today and by the
 * gateway, `device register` and `flash` later. The format is stable; a change bumps `version`.
 *
 *   {
 *     "type": "iosnet-key",
 *     "version": 1,
 *     "ed25519": { "secretKey": hex32, "publicKey": hex32 },          RFC 8032 seed and its public key
 *     "address": hex32,                                                  addressOf(ed25519.publicKey)
 *     "bls": { "secretKey": hex32, "publicKey": hex48, "pop": hex96 }    optional: validators only
 *   }
 *
 * Hex is lowercase, without 0x. The BLS secret key is a big-endian scalar 0 < sk < r; its public key is a
 * compressed G1 point and `pop` the BLS signature of blsPopMessage(publicKey) (core/identity.ts) that
 * proves possession when the validator registers. Files are created with mode 0600.
 *
 * readKeyFile checks everything that can be derived (public keys from secret keys, the address, the
 * proof of possession) and rejects unknown fields, so a file edited by hand or corrupted on disk is
 * refused with KEYFILE_INVALID before any key is used, rather than signing with a key that does not
 * match the address it claims.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { equalBytes, toHex } from '../../core/bytes.js';
import type { Crypto } from '../../core/crypto.js';
import { IosnetError } from '../../core/errors.js';
import { addressOf, blsPopMessage } from '../../core/identity.js';
import { writeNewFile } from './files.js';

export const KEYFILE_TYPE = 'iosnet-key';
export const KEYFILE_VERSION = 1;
/** A key file is well under 1 KiB; anything this large is not one. */
const MAX_KEYFILE_BYTES = 64 * 1024;

/** Order of the BLS12-381 scalar field (draft-irtf-cfrg-bls-signature-05 §4.2, "r"). */
const BLS_R = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001n;

export interface Ed25519KeyPair {
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

export interface BlsKeyPair {
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly pop: Uint8Array;
}

export interface KeyFile {
  readonly ed25519: Ed25519KeyPair;
  readonly address: Uint8Array;
  readonly bls?: BlsKeyPair;
}

export type KeyFileErrorCode = 'KEYFILE_INVALID' | 'KEYFILE_UNREADABLE';

function invalid(source: string, reason: string): never {
  throw new IosnetError<KeyFileErrorCode>('KEYFILE_INVALID', `${source}: ${reason}`, {
    path: source,
    reason,
  });
}

function bytesToBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${toHex(bytes)}`);
}

/** Whether 32 bytes are a usable BLS secret key: 0 < sk < r, and the backend agrees. */
function isValidBlsSecretKey(crypto: Crypto, sk: Uint8Array): boolean {
  const n = bytesToBigInt(sk);
  if (sk.length !== 32 || n === 0n || n >= BLS_R) return false;
  try {
    crypto.bls.getPublicKey(sk);
    return true;
  } catch {
    return false;
  }
}

/**
 * A uniformly random BLS secret key by rejection sampling: 32 random bytes with the top bit cleared
 * (r > 2^254, so about 9 in 10 draws are below r). Reducing 256 random bits mod r instead would make
 * small scalars about twice as likely as large ones.
 */
export function generateBlsSecretKey(crypto: Crypto): Uint8Array {
  for (let attempt = 0; attempt < 128; attempt++) {
    const sk = crypto.randomBytes(32);
    sk[0]! &= 0x7f;
    if (isValidBlsSecretKey(crypto, sk)) return sk;
  }
  // 128 rejections in a row has probability ~2^-425: the random source is broken.
  throw new IosnetError('RANDOM_FAILURE', 'random source produced no valid BLS secret key');
}

export function generateKeyFile(crypto: Crypto, opts: { validator: boolean }): KeyFile {
  const secretKey = crypto.randomBytes(32);
  const publicKey = crypto.ed25519.getPublicKey(secretKey);
  const key: KeyFile = { ed25519: { secretKey, publicKey }, address: addressOf(crypto, publicKey) };
  if (!opts.validator) return key;
  const blsSecretKey = generateBlsSecretKey(crypto);
  const blsPublicKey = crypto.bls.getPublicKey(blsSecretKey);
  const pop = crypto.bls.sign(blsPopMessage(crypto, blsPublicKey), blsSecretKey);
  return { ...key, bls: { secretKey: blsSecretKey, publicKey: blsPublicKey, pop } };
}

export function encodeKeyFile(key: KeyFile): string {
  const json: Record<string, unknown> = {
    type: KEYFILE_TYPE,
    version: KEYFILE_VERSION,
    ed25519: { secretKey: toHex(key.ed25519.secretKey), publicKey: toHex(key.ed25519.publicKey) },
    address: toHex(key.address),
  };
  if (key.bls) {
    json.bls = {
      secretKey: toHex(key.bls.secretKey),
      publicKey: toHex(key.bls.publicKey),
      pop: toHex(key.bls.pop),
    };
  }
  return `${JSON.stringify(json, null, 2)}\n`;
}

/** Writes a key file with mode 0600 (see writeNewFile for the no-clobber and --force rules). */
export function writeKeyFile(path: string, key: KeyFile, opts: { force: boolean }): void {
  writeNewFile(path, encodeKeyFile(key), { mode: 0o600, force: opts.force });
}

// ---- strict parsing ----

type JsonObject = Record<string, unknown>;

function object(
  value: unknown,
  field: string,
  source: string,
  keys: readonly string[],
  optional: readonly string[] = [],
): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    invalid(source, `${field} must be an object`);
  const o = value as JsonObject;
  for (const k of Object.keys(o)) {
    if (!keys.includes(k) && !optional.includes(k))
      invalid(source, `unknown field ${field === '' ? k : `${field}.${k}`}`);
  }
  for (const k of keys) if (!(k in o)) invalid(source, `missing field ${field === '' ? k : `${field}.${k}`}`);
  return o;
}

function hexField(o: JsonObject, key: string, field: string, length: number, source: string): Uint8Array {
  const v = o[key];
  if (typeof v !== 'string' || v.length !== 2 * length || !/^[0-9a-f]*$/.test(v)) {
    invalid(source, `${field} must be ${2 * length} lowercase hex digits`);
  }
  return new Uint8Array(Buffer.from(v, 'hex'));
}

/** Parses and checks a key file's text; throws IosnetError KEYFILE_INVALID naming the first problem. */
export function parseKeyFile(crypto: Crypto, text: string, source = 'key file'): KeyFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    invalid(source, 'not JSON');
  }
  const root = object(json, '', source, ['type', 'version', 'ed25519', 'address'], ['bls']);
  if (root.type !== KEYFILE_TYPE) invalid(source, `type must be "${KEYFILE_TYPE}"`);
  if (root.version !== KEYFILE_VERSION)
    invalid(source, `unsupported version ${JSON.stringify(root.version)}`);

  const ed = object(root.ed25519, 'ed25519', source, ['secretKey', 'publicKey']);
  const secretKey = hexField(ed, 'secretKey', 'ed25519.secretKey', 32, source);
  const publicKey = hexField(ed, 'publicKey', 'ed25519.publicKey', 32, source);
  if (!equalBytes(crypto.ed25519.getPublicKey(secretKey), publicKey)) {
    invalid(source, 'ed25519.publicKey does not match ed25519.secretKey');
  }
  const address = hexField(root, 'address', 'address', 32, source);
  if (!equalBytes(addressOf(crypto, publicKey), address))
    invalid(source, 'address does not match ed25519.publicKey');
  const key: KeyFile = { ed25519: { secretKey, publicKey }, address };
  if (root.bls === undefined) return key;

  const b = object(root.bls, 'bls', source, ['secretKey', 'publicKey', 'pop']);
  const blsSecretKey = hexField(b, 'secretKey', 'bls.secretKey', 32, source);
  const blsPublicKey = hexField(b, 'publicKey', 'bls.publicKey', 48, source);
  const pop = hexField(b, 'pop', 'bls.pop', 96, source);
  if (!isValidBlsSecretKey(crypto, blsSecretKey))
    invalid(source, 'bls.secretKey is not a valid scalar (0 < sk < r)');
  if (!equalBytes(crypto.bls.getPublicKey(blsSecretKey), blsPublicKey)) {
    invalid(source, 'bls.publicKey does not match bls.secretKey');
  }
  const parsed = crypto.bls.parsePublicKey(blsPublicKey);
  if (!parsed || !crypto.bls.verify(pop, blsPopMessage(crypto, blsPublicKey), parsed)) {
    invalid(source, 'bls.pop does not verify (proof of possession)');
  }
  return { ...key, bls: { secretKey: blsSecretKey, publicKey: blsPublicKey, pop } };
}

export interface ReadKeyFileResult {
  readonly key: KeyFile;
  /** Set when the file is accessible by group or others: the caller shows it to the operator. */
  readonly warning: string | undefined;
}

/**
 * Reads and checks a key file. Throws IosnetError KEYFILE_UNREADABLE (missing, not a file, too large)
 * or KEYFILE_INVALID (anything wrong with the content).
 */
export function readKeyFile(path: string, crypto: Crypto): ReadKeyFileResult {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new IosnetError<KeyFileErrorCode>('KEYFILE_UNREADABLE', `${path}: cannot open (${code})`, {
      path,
      code,
    });
  }
  let text: string;
  let mode: number;
  try {
    const st = fstatSync(fd);
    if (!st.isFile())
      throw new IosnetError<KeyFileErrorCode>('KEYFILE_UNREADABLE', `${path}: not a file`, { path });
    if (st.size > MAX_KEYFILE_BYTES) invalid(path, `${st.size} bytes is too large for a key file`);
    mode = st.mode & 0o777;
    const buf = Buffer.alloc(st.size);
    let off = 0;
    while (off < st.size) {
      const n = readSync(fd, buf, off, st.size - off, off);
      if (n === 0) break;
      off += n;
    }
    text = buf.subarray(0, off).toString('utf8');
  } finally {
    closeSync(fd);
  }
  const key = parseKeyFile(crypto, text, path);
  // POSIX modes mean nothing on Windows (always 0o666 there).
  const exposed = process.platform !== 'win32' && (mode & 0o077) !== 0;
  const warning = exposed
    ? `${path} is accessible by group/others (mode ${mode.toString(8).padStart(4, '0')}); run: chmod 600 ${path}`
    : undefined;
  return { key, warning };
}
