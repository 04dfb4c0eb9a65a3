/**
 * The MQTT transport (mqtt.js, MQTT 3.1.1). Topics and messages: core/device-protocol.ts and
 * docs/protocol.md §16. The device subscribes to its shard's announcement topic and its own response
 * topic, and publishes requests on its own request topic; the password is a fresh signed auth token on
 * every connect (tokens are single-use, so mqtt.js's own reconnect, which replays the first password,
 * is off and this module reconnects by itself, with exponential backoff and jitter).
 *
 * Size: this imports mqtt.js's client class and opens the socket itself (node:net / node:tls) instead of
 * importing `mqtt`, whose connect() pulls in WebSocket, SOCKS and browser transports: measured with
 * flash-scripts/bundle.ts (node18, gzip -9), `mqtt` is 100 KB and `mqtt/lib/client` 66 KB.
 */
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import * as mqttClientModule from 'mqtt/lib/client';
import { DeviceError } from '../errors.js';
import {
  type BackoffOptions,
  backoffDelay,
  defaultBackoffOptions,
  type Transport,
  type TransportChannel,
  type TransportHandlers,
} from './interface.js';

export interface MqttTopics {
  readonly announcements: string;
  readonly request: string;
  readonly response: string;
}

export interface MqttTransportOptions {
  /** mqtt://host:port or mqtts://host:port */
  readonly url: string;
  readonly clientId: string;
  readonly username: string;
  /** Called on every connect attempt: a fresh (single-use) auth token. */
  readonly password: () => string;
  readonly topics: MqttTopics;
  readonly connectTimeoutMs?: number;
  readonly keepaliveSeconds?: number;
  readonly backoff?: BackoffOptions;
  /** PEM CA certificate(s) for mqtts://, when the broker's certificate is not from a public CA. */
  readonly ca?: string;
  readonly random?: () => number;
  /**
   * External broker (docs/protocol.md §16.4): before each connect, hand the fresh token to the gateway
   * anonymously on this topic (`iosnet/<chain>/auth/<device>`), then connect with it once the gateway has
   * made the broker accept it (retried every ENROL_RETRY_MS, ENROL_CONNECT_TRIES times).
   */
  readonly enrolTopic?: string;
}

/** Mosquitto picks up the gateway's new password file < 100 ms after enrolment (measured, §16.4). */
export const ENROL_RETRY_MS = 150;
export const ENROL_CONNECT_TRIES = 10;

type MqttClient = import('mqtt/lib/client').default;
type MqttClientClass = typeof import('mqtt/lib/client').default;
/**
 * mqtt/lib/client is CommonJS with `exports.default = MqttClient`: Node's ESM loader hands it over as
 * namespace.default.default, TypeScript and esbuild's interop as namespace.default. Accept both.
 */
const MqttClientCtor: MqttClientClass = ((m: { default: unknown }) => {
  const d = m.default;
  return (typeof d === 'function' ? d : (d as { default: MqttClientClass }).default) as MqttClientClass;
})(mqttClientModule as unknown as { default: unknown });

export const defaultMqttOptions = { connectTimeoutMs: 10_000, keepaliveSeconds: 30 } as const;

interface BrokerAddress {
  readonly tls: boolean;
  readonly host: string;
  readonly port: number;
}

export function parseBrokerUrl(url: string): BrokerAddress {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new DeviceError('DEVICE_CONFIG_INVALID', `broker url ${JSON.stringify(url)} is not a URL`);
  }
  if (u.protocol !== 'mqtt:' && u.protocol !== 'mqtts:') {
    throw new DeviceError(
      'DEVICE_CONFIG_INVALID',
      `broker url must be mqtt:// or mqtts://, got ${u.protocol}`,
    );
  }
  const tls = u.protocol === 'mqtts:';
  const port = u.port ? Number(u.port) : tls ? 8883 : 1883;
  return { tls, host: u.hostname.replace(/^\[|\]$/g, ''), port };
}

export class MqttTransport implements Transport {
  readonly name = 'mqtt';
  private client: MqttClient | null = null;
  private handlers: TransportHandlers | null = null;
  private up = false;
  private closed = false;
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private firstUp: { resolve(): void; reject(err: Error): void } | null = null;
  private readonly address: BrokerAddress;
  /** Connections made (first connect included): a resumed session shows up as reconnects > 0. */
  connects = 0;

  constructor(private readonly opts: MqttTransportOptions) {
    this.address = parseBrokerUrl(opts.url);
  }

  get connected(): boolean {
    return this.up;
  }

  start(handlers: TransportHandlers): Promise<void> {
    if (this.handlers) throw new DeviceError('DEVICE_CLOSED', 'transport already started');
    this.handlers = handlers;
    return new Promise((resolve, reject) => {
      this.firstUp = { resolve, reject };
      this.connectOnce();
    });
  }

  send(request: Uint8Array): Promise<void> {
    const client = this.client;
    if (!client || !this.up) {
      return Promise.reject(new DeviceError('DEVICE_NOT_CONNECTED', 'not connected to the broker'));
    }
    return new Promise((resolve, reject) => {
      client.publish(
        this.opts.topics.request,
        Buffer.from(request.buffer, request.byteOffset, request.byteLength),
        { qos: 1 },
        (err) =>
          err ? reject(new DeviceError('DEVICE_NOT_CONNECTED', `publish failed: ${err.message}`)) : resolve(),
      );
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.firstUp?.reject(new DeviceError('DEVICE_CLOSED', 'transport closed before it connected'));
    this.firstUp = null;
    const client = this.client;
    this.client = null;
    this.up = false;
    if (client) await new Promise<void>((resolve) => client.end(true, {}, () => resolve()));
  }

  private buildStream() {
    const { tls, host, port } = this.address;
    if (tls)
      return tlsConnect({ host, port, servername: host, ...(this.opts.ca ? { ca: this.opts.ca } : {}) });
    return netConnect({ host, port });
  }

  private connectOnce(): void {
    if (this.closed) return;
    let password: string;
    try {
      password = this.opts.password();
    } catch (err) {
      this.scheduleReconnect(err as Error);
      return;
    }
    const enrolTopic = this.opts.enrolTopic;
    if (!enrolTopic) {
      this.openClient(password, 1);
      return;
    }
    this.enrol(enrolTopic, password).then(
      () => this.openClient(password, ENROL_CONNECT_TRIES),
      (err: Error) => this.scheduleReconnect(err),
    );
  }

  /** Publishes the token (its CBOR bytes) as an anonymous client, then disconnects. */
  private enrol(topic: string, password: string): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new DeviceError('DEVICE_CLOSED', 'transport closed'));
      const anon = new MqttClientCtor(() => this.buildStream(), {
        protocolVersion: 4,
        clientId: `${this.opts.clientId}-enrol`,
        clean: true,
        reconnectPeriod: 0,
        connectTimeout: this.opts.connectTimeoutMs ?? defaultMqttOptions.connectTimeoutMs,
        keepalive: this.opts.keepaliveSeconds ?? defaultMqttOptions.keepaliveSeconds,
      });
      let done = false;
      const finish = (err?: Error) => {
        if (done) return;
        done = true;
        anon.end(true);
        if (err) reject(err);
        else resolve();
      };
      anon.on('error', (err) => finish(err));
      anon.on('close', () => finish(new Error('enrolment connection closed')));
      anon.on('connect', () => {
        anon.publish(topic, Buffer.from(password, 'hex'), { qos: 1 }, (err) => finish(err ?? undefined));
      });
    });
  }

  /** One MQTT connection with `password`; `tries` > 1 retries a refused CONNECT with the same token. */
  private openClient(password: string, tries: number): void {
    if (this.closed) return;
    const client = new MqttClientCtor(() => this.buildStream(), {
      protocolVersion: 4,
      clientId: this.opts.clientId,
      username: this.opts.username,
      password,
      clean: true,
      reconnectPeriod: 0,
      resubscribe: false,
      connectTimeout: this.opts.connectTimeoutMs ?? defaultMqttOptions.connectTimeoutMs,
      keepalive: this.opts.keepaliveSeconds ?? defaultMqttOptions.keepaliveSeconds,
    });
    this.client = client;
    this.connects++;
    let lastError: Error | undefined;
    client.on('error', (err) => {
      lastError = err;
    });
    client.on('connect', () => {
      const { announcements, response } = this.opts.topics;
      client.subscribe({ [announcements]: { qos: 1 }, [response]: { qos: 1 } }, (err, granted) => {
        if (this.client !== client) return;
        // [MQTT-3.9.3] a refused subscription is granted as 0x80: the broker's ACL said no.
        const refused = granted?.find((g) => g.qos === 0x80);
        if (err || refused) {
          lastError = err ?? new Error(`subscription to ${refused!.topic} refused`);
          client.end(true);
          return;
        }
        this.attempt = 0;
        this.up = true;
        this.firstUp?.resolve();
        this.firstUp = null;
        this.handlers?.onStatus('up');
      });
    });
    client.on('message', (topic, payload) => {
      if (this.client !== client) return;
      const channel: TransportChannel | undefined =
        topic === this.opts.topics.response
          ? 'response'
          : topic === this.opts.topics.announcements
            ? 'announcement'
            : undefined;
      if (!channel) return;
      this.handlers?.onMessage(
        channel,
        new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength),
      );
    });
    client.on('close', () => {
      if (this.client !== client) return;
      this.client = null;
      client.end(true);
      const wasUp = this.up;
      this.up = false;
      const detail = lastError ?? new Error('connection closed');
      if (wasUp) this.handlers?.onStatus('down', detail);
      if (!wasUp && tries > 1 && !this.closed && !this.reconnectTimer) {
        // Enrolled token not accepted yet: the gateway has not made the broker reload its files.
        this.reconnectTimer = setTimeout(() => {
          this.reconnectTimer = null;
          this.openClient(password, tries - 1);
        }, ENROL_RETRY_MS);
        return;
      }
      this.scheduleReconnect(detail);
    });
  }

  private scheduleReconnect(_cause: Error): void {
    if (this.closed || this.reconnectTimer) return;
    const delay = backoffDelay(this.attempt++, this.opts.backoff ?? defaultBackoffOptions, this.opts.random);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connectOnce();
    }, delay);
  }
}

export function createMqttTransport(opts: MqttTransportOptions): MqttTransport {
  return new MqttTransport(opts);
}
