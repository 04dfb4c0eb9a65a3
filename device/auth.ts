/**
 * The MQTT password: a fresh auth token per connection (core/device-protocol.ts, DeviceAuthToken), signed
 * through the key store so the device secret never leaves it. Tokens are single-use and short-lived: a
 * broker that saw one refuses it again, so a token copied off the wire is worth nothing after connect.
 */
import type { Crypto } from '../core/crypto.js';
import {
  AUTH_NONCE_BYTES,
  authTokenPassword,
  type DeviceAuthTokenFields,
  deviceAuthMessage,
  MAX_AUTH_TOKEN_LIFETIME_MS,
} from '../core/device-protocol.js';
import { DeviceError } from './errors.js';
import type { DeviceKeyStore } from './keystore.js';

export interface AuthTokenOptions {
  readonly crypto: Crypto;
  readonly keyStore: DeviceKeyStore;
  readonly chainId: string;
  /** The gateway's node public key (hex), or the external broker's id: who may accept the token. */
  readonly audience: string;
  readonly now?: () => number;
  readonly lifetimeMs?: number;
}

export const DEFAULT_AUTH_TOKEN_LIFETIME_MS = 60_000;

/** A function returning a new signed token (as the MQTT password) on each call. */
export function authTokenSource(opts: AuthTokenOptions): () => string {
  const lifetime = opts.lifetimeMs ?? DEFAULT_AUTH_TOKEN_LIFETIME_MS;
  if (lifetime < 1 || lifetime > MAX_AUTH_TOKEN_LIFETIME_MS) {
    throw new DeviceError(
      'DEVICE_CONFIG_INVALID',
      `token lifetime must be within 1..${MAX_AUTH_TOKEN_LIFETIME_MS} ms`,
    );
  }
  const now = opts.now ?? Date.now;
  return () => {
    const fields: DeviceAuthTokenFields = {
      chainId: opts.chainId,
      deviceId: opts.keyStore.identityHash,
      audience: opts.audience,
      expiry: Math.floor(now()) + lifetime,
      nonce: opts.crypto.randomBytes(AUTH_NONCE_BYTES),
    };
    const signature = opts.keyStore.sign(deviceAuthMessage(opts.crypto, fields));
    return authTokenPassword({ ...fields, signature });
  };
}
