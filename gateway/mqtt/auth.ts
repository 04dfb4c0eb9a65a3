/**
 * Device authentication for the MQTT bridge (docs/protocol.md §16.4): the MQTT password is a token signed by
 * the device key; it is checked against the ON-CHAIN device registry (the register-device record in the
 * gateway's current state), and each token is accepted once, before its expiry. Nonces are remembered only
 * after the signature verified (so nobody can fill the memory with junk), and only until their expiry
 * (tokens live at most MAX_AUTH_TOKEN_LIFETIME_MS), so the memory stays bounded.
 */
import { equalBytes, fromHex, toHex } from '../../core/bytes.js';
import type { Crypto } from '../../core/crypto.js';
import {
  type DeviceAuthToken,
  decodeDeviceAuthToken,
  parseAuthTokenPassword,
  verifyDeviceAuthToken,
} from '../../core/device-protocol.js';
import { IosnetError } from '../../core/errors.js';
import type { StateReader } from '../state/interface.js';
import { MqttAuthError, type MqttAuthErrorCode, type MqttRefusalReason } from './interface.js';

const DEVICE_HEX = /^[0-9a-f]{64}$/;

export const REFUSAL_OF: Readonly<Record<MqttAuthErrorCode, MqttRefusalReason>> = {
  MQTT_AUTH_MALFORMED: 'malformed_token',
  MQTT_AUTH_USERNAME_MISMATCH: 'username_mismatch',
  MQTT_AUTH_WRONG_AUDIENCE: 'wrong_audience',
  MQTT_AUTH_UNREGISTERED: 'unregistered',
  MQTT_AUTH_EXPIRED: 'expired',
  MQTT_AUTH_BAD_SIGNATURE: 'bad_signature',
  MQTT_AUTH_REPLAYED: 'replayed',
  MQTT_AUTH_BUSY: 'busy',
};

export interface AuthenticatedDevice {
  readonly deviceHex: string;
  readonly deviceId: Uint8Array;
  readonly expiry: number;
}

export class DeviceAuthenticator {
  /** deviceHex + nonceHex -> token expiry. */
  private readonly nonces = new Map<string, number>();

  constructor(
    private readonly opts: {
      readonly chainId: string;
      readonly audience: string;
      readonly maxNonces: number;
    },
    private readonly deps: {
      readonly crypto: Crypto;
      readonly state: Pick<StateReader, 'getDevice'>;
      readonly now: () => number;
    },
  ) {}

  /** Checks an MQTT CONNECT's username and password (hex token). Throws MqttAuthError. */
  authenticate(username: string | undefined, password: string | Uint8Array | undefined): AuthenticatedDevice {
    if (username === undefined || !DEVICE_HEX.test(username)) {
      throw new MqttAuthError('MQTT_AUTH_MALFORMED', 'username must be the device identity hash (64 hex)');
    }
    const text = typeof password === 'string' ? password : password ? new TextDecoder().decode(password) : '';
    let token: DeviceAuthToken;
    try {
      token = parseAuthTokenPassword(text);
    } catch (e) {
      throw malformed(e);
    }
    return this.check(username, token);
  }

  /** Checks a token handed over as CBOR (external broker enrolment on iosnet/<chain>/auth/<device>). */
  authenticateBytes(deviceHex: string, tokenBytes: Uint8Array): AuthenticatedDevice {
    let token: DeviceAuthToken;
    try {
      token = decodeDeviceAuthToken(tokenBytes);
    } catch (e) {
      throw malformed(e);
    }
    return this.check(deviceHex, token);
  }

  private check(deviceHex: string, token: DeviceAuthToken): AuthenticatedDevice {
    const deviceId = fromHex(deviceHex);
    if (!equalBytes(token.deviceId, deviceId)) {
      throw new MqttAuthError('MQTT_AUTH_USERNAME_MISMATCH', 'token is for another device than the username');
    }
    if (token.chainId !== this.opts.chainId || token.audience !== this.opts.audience) {
      throw new MqttAuthError('MQTT_AUTH_WRONG_AUDIENCE', 'token is for another chain, gateway or broker');
    }
    const record = this.deps.state.getDevice(deviceId);
    if (!record) throw new MqttAuthError('MQTT_AUTH_UNREGISTERED', `device ${deviceHex} is not registered`);
    const now = this.deps.now();
    try {
      verifyDeviceAuthToken(this.deps.crypto, token, {
        chainId: this.opts.chainId,
        audience: this.opts.audience,
        deviceId,
        devicePublicKey: record.devicePublicKey,
        now,
      });
    } catch (e) {
      if (!(e instanceof IosnetError)) throw e;
      const code: MqttAuthErrorCode =
        e.code === 'VERIFY_STALE' || e.code === 'VERIFY_INVALID_FIELD'
          ? 'MQTT_AUTH_EXPIRED'
          : 'MQTT_AUTH_BAD_SIGNATURE';
      throw new MqttAuthError(code, e.message, { cause: e.code });
    }
    const key = deviceHex + toHex(token.nonce);
    if (this.nonces.has(key)) throw new MqttAuthError('MQTT_AUTH_REPLAYED', 'token was used before');
    if (this.nonces.size >= this.opts.maxNonces) this.prune(now);
    if (this.nonces.size >= this.opts.maxNonces) {
      throw new MqttAuthError('MQTT_AUTH_BUSY', 'too many live tokens: retry later');
    }
    this.nonces.set(key, token.expiry);
    return { deviceHex, deviceId, expiry: token.expiry };
  }

  /** Forgets nonces whose tokens expired (they can no longer be replayed: expiry refuses them). */
  prune(now = this.deps.now()): void {
    for (const [k, expiry] of this.nonces) if (expiry <= now) this.nonces.delete(k);
  }

  get rememberedNonces(): number {
    return this.nonces.size;
  }
}

function malformed(e: unknown): MqttAuthError {
  if (!(e instanceof IosnetError)) throw e;
  return new MqttAuthError('MQTT_AUTH_MALFORMED', `password is not a token: ${e.message}`, { cause: e.code });
}
