/**
 * The MQTT auth token of a device (docs/protocol.md §16.4): the MQTT password is the lowercase hex of
 *   DeviceAuthToken = [1, chainId, deviceId bytes32, audience text, expiry uint (ms), nonce bytes16, sig bytes64]
 *   sig = Ed25519(device key, H("iosnet/device-auth/v1", cbor([chainId, deviceId, audience, expiry, nonce])))
 * and the username the device id's hex. Single use is the verifier's to enforce (it remembers nonces until
 * their expiry, which is at most MAX_AUTH_TOKEN_LIFETIME_MS ahead).
 */
import { abytes, auint, equalBytes, fromHex, toHex } from './bytes.js';
import { CborReader, CborWriter } from './cbor.js';
import type { Crypto } from './crypto.js';
import { ArgumentError, DecodeError, VerifyError } from './errors.js';
import { DomainTag, taggedHash } from './hash.js';
import { ED25519_SIGNATURE_BYTES, HASH_BYTES, MAX_CHAIN_ID_BYTES } from './identity.js';
import { assertMaxSize } from './object.js';

const TOKEN_VERSION = 1;
export const MAX_AUDIENCE_BYTES = 128;
export const AUTH_NONCE_BYTES = 16;
export const MAX_AUTH_TOKEN_BYTES = 512;
/** Gateways refuse tokens expiring further ahead than this, so their replay memory stays bounded. */
export const MAX_AUTH_TOKEN_LIFETIME_MS = 10 * 60 * 1000;

export interface DeviceAuthTokenFields {
  readonly chainId: string;
  /** The device identity hash (also the MQTT username, as hex). */
  readonly deviceId: Uint8Array;
  /** Who may accept it: the gateway's node public key hex (embedded broker) or the broker id (external). */
  readonly audience: string;
  /** Unix time in ms after which the token is refused. */
  readonly expiry: number;
  readonly nonce: Uint8Array;
}

export interface DeviceAuthToken extends DeviceAuthTokenFields {
  readonly signature: Uint8Array;
}

function writeTokenBody(w: CborWriter, t: DeviceAuthTokenFields): CborWriter {
  return w
    .text(t.chainId)
    .bytes(abytes(t.deviceId, 'deviceId', HASH_BYTES))
    .text(t.audience)
    .uint(t.expiry)
    .bytes(abytes(t.nonce, 'nonce', AUTH_NONCE_BYTES));
}

/** What the device key signs: H("iosnet/device-auth/v1", cbor([chainId, deviceId, audience, expiry, nonce])). */
export function deviceAuthMessage(crypto: Crypto, t: DeviceAuthTokenFields): Uint8Array {
  const body = writeTokenBody(new CborWriter(192).array(5), t).finish();
  return taggedHash(crypto, DomainTag.deviceAuth, body);
}

export function encodeDeviceAuthToken(t: DeviceAuthToken): Uint8Array {
  const w = new CborWriter(256).array(7).uint(TOKEN_VERSION);
  writeTokenBody(w, t).bytes(abytes(t.signature, 'signature', ED25519_SIGNATURE_BYTES));
  return w.finish();
}

export function decodeDeviceAuthToken(bytes: Uint8Array): DeviceAuthToken {
  assertMaxSize(bytes, MAX_AUTH_TOKEN_BYTES, 'authToken');
  const r = new CborReader(bytes);
  r.array('authToken', 7);
  const version = r.uint('authToken.version');
  if (version !== TOKEN_VERSION) {
    throw new DecodeError('DECODE_UNKNOWN_VERSION', `authToken: unknown version ${version}`, {
      field: 'authToken.version',
      version,
    });
  }
  const chainId = r.text('authToken.chainId', MAX_CHAIN_ID_BYTES);
  const deviceId = r.bytesField('authToken.deviceId', HASH_BYTES);
  const audience = r.text('authToken.audience', MAX_AUDIENCE_BYTES);
  const expiry = r.uint('authToken.expiry');
  const nonce = r.bytesField('authToken.nonce', AUTH_NONCE_BYTES);
  const signature = r.bytesField('authToken.signature', ED25519_SIGNATURE_BYTES);
  r.end('authToken');
  return { chainId, deviceId, audience, expiry, nonce, signature };
}

/** A fresh token signed by the device key (32-byte Ed25519 seed), expiring `lifetimeMs` after `now`. */
export function signDeviceAuthToken(
  crypto: Crypto,
  fields: { chainId: string; deviceId: Uint8Array; audience: string; now: number; lifetimeMs?: number },
  deviceSecretKey: Uint8Array,
): DeviceAuthToken {
  const lifetime = fields.lifetimeMs ?? 60_000;
  if (lifetime > MAX_AUTH_TOKEN_LIFETIME_MS)
    throw new ArgumentError('lifetimeMs', `at most ${MAX_AUTH_TOKEN_LIFETIME_MS}`);
  const body: DeviceAuthTokenFields = {
    chainId: fields.chainId,
    deviceId: fields.deviceId,
    audience: fields.audience,
    expiry: auint(fields.now, 'now') + lifetime,
    nonce: crypto.randomBytes(AUTH_NONCE_BYTES),
  };
  const signature = crypto.ed25519.sign(
    deviceAuthMessage(crypto, body),
    abytes(deviceSecretKey, 'deviceSecretKey', 32),
  );
  return { ...body, signature };
}

/**
 * Checks a token for one gateway (or broker) at time `now` against the device public key registered on
 * chain. Throws VerifyError: VERIFY_WRONG_CHAIN, VERIFY_INVALID_FIELD (other audience or device, lifetime
 * too long), VERIFY_STALE (expired), VERIFY_BAD_SIGNATURE. Single use is the verifier's to enforce (it
 * remembers nonces until their expiry).
 */
export function verifyDeviceAuthToken(
  crypto: Crypto,
  token: DeviceAuthToken,
  expect: {
    chainId: string;
    audience: string;
    deviceId: Uint8Array;
    devicePublicKey: Uint8Array;
    now: number;
  },
): void {
  if (token.chainId !== expect.chainId) {
    throw new VerifyError('VERIFY_WRONG_CHAIN', `token is for chain ${token.chainId}`, {
      chainId: token.chainId,
    });
  }
  if (token.audience !== expect.audience) {
    throw new VerifyError('VERIFY_INVALID_FIELD', 'token is for another gateway or broker', {
      field: 'audience',
    });
  }
  if (!equalBytes(token.deviceId, expect.deviceId)) {
    throw new VerifyError('VERIFY_INVALID_FIELD', 'token is for another device', { field: 'deviceId' });
  }
  if (token.expiry <= expect.now) {
    throw new VerifyError('VERIFY_STALE', 'token expired', { expiry: token.expiry, now: expect.now });
  }
  if (token.expiry - expect.now > MAX_AUTH_TOKEN_LIFETIME_MS) {
    throw new VerifyError(
      'VERIFY_INVALID_FIELD',
      `token lives longer than ${MAX_AUTH_TOKEN_LIFETIME_MS} ms`,
      {
        field: 'expiry',
      },
    );
  }
  if (!crypto.ed25519.verify(token.signature, deviceAuthMessage(crypto, token), expect.devicePublicKey)) {
    throw new VerifyError('VERIFY_BAD_SIGNATURE', 'token signature does not verify', {});
  }
}

/** The MQTT password of a token: lowercase hex of its CBOR (text, so any broker can carry it). */
export function authTokenPassword(t: DeviceAuthToken): string {
  return toHex(encodeDeviceAuthToken(t));
}

/** Parses an MQTT password as a token; only the exact lowercase hex of a canonical token is accepted. */
export function parseAuthTokenPassword(password: string): DeviceAuthToken {
  if (
    typeof password !== 'string' ||
    password.length > 2 * MAX_AUTH_TOKEN_BYTES ||
    !/^[0-9a-f]*$/.test(password)
  ) {
    throw new DecodeError('DECODE_INVALID_VALUE', 'authToken: password is not lowercase hex', {
      field: 'authToken',
    });
  }
  if (password.length % 2 !== 0) {
    throw new DecodeError('DECODE_INVALID_LENGTH', 'authToken: odd hex length', { field: 'authToken' });
  }
  return decodeDeviceAuthToken(fromHex(password));
}
