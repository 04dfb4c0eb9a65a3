/**
 * The scale-out device bridge: the gateway is a client of an external broker (Mosquitto) and serves the
 * same topics (docs/protocol.md §16). Mosquitto cannot check Ed25519 tokens, so the gateway is its
 * credential authority: devices hand their token over on iosnet/<chain>/auth/<device> (anonymous,
 * write-only), the gateway checks it against the chain's registry exactly as the embedded broker does,
 * then adds `<device>:<hash of the token>` to Mosquitto's password file and makes it reload (SIGHUP).
 * Mosquitto disconnects a connected client whose entry disappears at a reload (measured with 2.0.11), so an
 * entry lives until the device enrols a newer token, leaves the registry, or `credentialLifetimeMs`
 * passes. The ACL file is written once at start (per-user patterns).
 */
import { readFileSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import { parseDeviceTopic } from '../../core/device-protocol.js';
import { IosnetError } from '../../core/errors.js';
import type { Logger } from '../log/logger.js';
import { TokenBucket } from '../network/rate-limit.js';
import { type DeviceAuthenticator, REFUSAL_OF } from './auth.js';
import { MqttAuthError, type MqttRefusalReason } from './interface.js';
import { mosquittoAcl, mosquittoPasswordLine, writeFileAtomic } from './mosquitto-files.js';

export interface ExternalBrokerLink {
  /** Devices holding a live broker credential. */
  liveCredentials(): number;
  publish(topic: string, payload: Uint8Array, retain: boolean): void;
  close(): Promise<void>;
}

export interface MosquittoFiles {
  readonly passwordFile: string;
  readonly aclFile: string;
  readonly pidFile?: string;
}

export async function connectExternalBroker(
  opts: {
    readonly url: string;
    readonly username?: string;
    readonly password?: string;
    readonly mosquitto?: MosquittoFiles;
    readonly enrolmentsPerSecond: number;
    readonly credentialLifetimeMs: number;
  },
  deps: {
    readonly chainId: string;
    readonly auth: DeviceAuthenticator;
    /** Whether a device is still registered on chain (entries of removed devices are dropped). */
    readonly registered: (deviceId: Uint8Array) => boolean;
    readonly onRequest: (deviceHex: string, payload: Uint8Array) => Uint8Array | undefined;
    readonly refuse: (reason: MqttRefusalReason, error: IosnetError) => void;
    readonly now: () => number;
    readonly log: Logger;
  },
): Promise<ExternalBrokerLink> {
  const { chainId, log } = deps;
  /** deviceHex -> its password line, until `expiry`. */
  const credentials = new Map<string, { line: string; deviceId: Uint8Array; expiry: number }>();
  const files = opts.mosquitto;
  const gatewayLine =
    files && opts.username && opts.password ? mosquittoPasswordLine(opts.username, opts.password) : undefined;

  function sync(): void {
    if (!files) return;
    const lines = gatewayLine ? [gatewayLine] : [];
    for (const c of credentials.values()) lines.push(c.line);
    writeFileAtomic(files.passwordFile, `${lines.join('\n')}\n`);
    reload();
  }

  function reload(): void {
    if (!files?.pidFile) return;
    try {
      const pid = Number(readFileSync(files.pidFile, 'utf8').trim());
      if (Number.isSafeInteger(pid) && pid > 1) process.kill(pid, 'SIGHUP');
    } catch (e) {
      log.warn('mqtt: cannot signal the broker to reload its files', { error: (e as Error).message });
    }
  }

  if (files) {
    writeFileAtomic(files.aclFile, mosquittoAcl(chainId, opts.username ?? 'iosnet-gateway'), 0o644);
    sync();
  }

  const client: MqttClient = await mqtt.connectAsync(opts.url, {
    ...(opts.username ? { username: opts.username } : {}),
    ...(opts.password ? { password: opts.password } : {}),
    clientId: `iosnet-gateway-${process.pid}-${Math.floor(Math.random() * 1e9)}`,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
  });
  await client.subscribeAsync([`iosnet/${chainId}/d/+/req`, `iosnet/${chainId}/auth/+`], { qos: 1 });

  const enrolments = new TokenBucket(opts.enrolmentsPerSecond, opts.enrolmentsPerSecond, deps.now());
  let pendingSync: NodeJS.Timeout | undefined;
  const scheduleSync = () => {
    // Enrolments arriving together cost one file write and one reload.
    pendingSync ??= setTimeout(() => {
      pendingSync = undefined;
      sync();
    }, 10);
  };
  const expiryTimer = setInterval(() => {
    const now = deps.now();
    let changed = false;
    for (const [k, c] of credentials) {
      if (c.expiry <= now || !deps.registered(c.deviceId)) {
        credentials.delete(k);
        changed = true;
      }
    }
    if (changed) scheduleSync();
    deps.auth.prune(now);
  }, 5_000);
  expiryTimer.unref();

  client.on('message', (topic, payload) => {
    const t = parseDeviceTopic(topic);
    if (!t || t.chainId !== chainId) return;
    const bytes = new Uint8Array(payload);
    if (t.kind === 'req') {
      const answer = deps.onRequest(t.deviceHex, bytes);
      if (answer) publish(`iosnet/${chainId}/d/${t.deviceHex}/res`, answer, false);
      return;
    }
    if (t.kind !== 'auth') return;
    if (!enrolments.take(1, deps.now())) {
      deps.refuse('busy', new MqttAuthError('MQTT_AUTH_BUSY', 'too many enrolments'));
      return;
    }
    try {
      const device = deps.auth.authenticateBytes(t.deviceHex, bytes);
      // The password is the token's hex, as the device will send it at CONNECT.
      const password = Buffer.from(bytes).toString('hex');
      credentials.set(device.deviceHex, {
        line: mosquittoPasswordLine(device.deviceHex, password),
        deviceId: device.deviceId,
        expiry: deps.now() + opts.credentialLifetimeMs,
      });
      scheduleSync();
    } catch (e) {
      if (!(e instanceof IosnetError)) throw e;
      deps.refuse(e instanceof MqttAuthError ? REFUSAL_OF[e.code] : 'malformed_token', e);
    }
  });
  client.on('error', (e) => log.warn('mqtt: broker connection error', { error: e.message }));

  function publish(topic: string, payload: Uint8Array, retain: boolean): void {
    client.publish(topic, Buffer.from(payload), { qos: 1, retain }, (err) => {
      if (err) log.warn('mqtt publish failed', { topic, error: err.message });
    });
  }

  return {
    liveCredentials: () => credentials.size,
    publish,
    async close() {
      clearInterval(expiryTimer);
      if (pendingSync) clearTimeout(pendingSync);
      await client.endAsync();
    },
  };
}
