/**
 * The default device bridge: an aedes broker inside the gateway, on a TCP port (docs/protocol.md §16).
 * Hooks (aedes's authenticate / authorizePublish / authorizeSubscribe) enforce §16.1 and §16.4: a device
 * connects with its signed token, may publish only on its own req topic (non-retained, within the size
 * limit) and subscribe only to its own res topic and the announcement topics. The gateway itself subscribes
 * and publishes in-process (aedes.subscribe / aedes.publish bypass the hooks).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { Duplex, type Readable } from 'node:stream';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import { MAX_DEVICE_REQUEST_BYTES, parseDeviceTopic } from '../../core/device-protocol.js';
import { IosnetError } from '../../core/errors.js';
import type { Logger } from '../log/logger.js';
import { listen as listenOn } from '../util/listen.js';
import { type AuthenticatedDevice, type DeviceAuthenticator, REFUSAL_OF } from './auth.js';
import { MqttAccessError, MqttAuthError, type MqttRefusalReason } from './interface.js';
import { MqttPacketGuard } from './packet-guard.js';

/** A request plus its topic and MQTT headers (MQTT 3.1.1 §3.3: topic ≤ 65,535; ours are < 100 bytes). */
const MAX_MQTT_PACKET_BYTES = MAX_DEVICE_REQUEST_BYTES + 1024;

/** CONNACK return code 5 (MQTT 3.1.1 §3.2.2.3): not authorized. */
const NOT_AUTHORIZED = 5;

export interface EmbeddedBroker {
  readonly port: number;
  connectedDevices(): number;
  publish(topic: string, payload: Uint8Array, retain: boolean): void;
  close(): Promise<void>;
}

export async function startEmbeddedBroker(
  listen: { host: string; port: number },
  deps: {
    readonly chainId: string;
    readonly auth: DeviceAuthenticator;
    /** Answers a request of a device; undefined drops it. */
    readonly onRequest: (deviceHex: string, payload: Uint8Array) => Uint8Array | undefined;
    readonly refuse: (reason: MqttRefusalReason, error: IosnetError) => void;
    readonly log: Logger;
  },
): Promise<EmbeddedBroker> {
  const devices = new WeakMap<Client, AuthenticatedDevice>();
  let connected = 0;
  const announcement = new RegExp(`^iosnet/${escapeRegExp(deps.chainId)}/s/\\d{1,5}/sb$`);

  const broker = await Aedes.createBroker({
    // A device's request and its answer are small; cap what one slow client may queue (bounded memory).
    queueLimit: 64,
    maxClientsIdLength: 128,
    authenticate(client, username, password, done) {
      try {
        const device = deps.auth.authenticate(username, password);
        // The client id must name the device: otherwise a device could take over another's session
        // (MQTT lets a new connection with the same client id kick the old one).
        if (!client.id.startsWith(device.deviceHex)) {
          throw new MqttAuthError('MQTT_AUTH_USERNAME_MISMATCH', 'client id must start with the device id');
        }
        devices.set(client, device);
        done(null, true);
      } catch (e) {
        const err =
          e instanceof IosnetError ? e : new MqttAuthError('MQTT_AUTH_MALFORMED', 'unreadable credentials');
        deps.refuse(err instanceof MqttAuthError ? REFUSAL_OF[err.code] : 'malformed_token', err);
        const refusal = Object.assign(new Error(err.message), {
          returnCode: NOT_AUTHORIZED,
        }) as AuthenticateError;
        done(refusal, false);
      }
    },
    authorizePublish(client, packet, callback) {
      const device = client ? devices.get(client) : undefined;
      const topic = parseDeviceTopic(packet.topic);
      let reason = '';
      if (!device) reason = 'not an authenticated device';
      else if (
        topic?.kind !== 'req' ||
        topic.deviceHex !== device.deviceHex ||
        topic.chainId !== deps.chainId
      )
        reason = `may not publish on ${packet.topic}`;
      else if (packet.retain) reason = 'requests may not be retained';
      else if ((packet.payload?.length ?? 0) > MAX_DEVICE_REQUEST_BYTES) reason = 'request too large';
      if (!reason) return callback(null);
      const err = new MqttAccessError('MQTT_FORBIDDEN_PUBLISH', reason, { topic: packet.topic });
      deps.refuse('forbidden_publish', err);
      // aedes closes the connection (MQTT-3.3.5-2: no error is returned to the client).
      callback(err);
    },
    authorizeSubscribe(client, sub, callback) {
      const device = devices.get(client);
      const own = device ? `iosnet/${deps.chainId}/d/${device.deviceHex}/res` : undefined;
      if (device && (sub.topic === own || announcement.test(sub.topic))) return callback(null, sub);
      deps.refuse(
        'forbidden_subscribe',
        new MqttAccessError('MQTT_FORBIDDEN_SUBSCRIBE', `may not subscribe to ${sub.topic}`, {
          topic: sub.topic,
        }),
      );
      // Negated: SUBACK carries 0x80 for this topic (MQTT 3.1.1 §3.9.3), the connection stays.
      callback(null, null);
    },
  });
  broker.on('clientReady', (client) => {
    if (devices.has(client)) connected++;
  });
  broker.on('clientDisconnect', (client) => {
    if (devices.has(client)) connected--;
    devices.delete(client);
  });
  broker.on('clientError', (client, err) => {
    deps.log.debug('mqtt client error', { client: client.id, error: err.message });
  });

  const publish = (topic: string, payload: Uint8Array, retain: boolean) =>
    broker.publish(
      { cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain, dup: false },
      (err) => {
        if (err) deps.log.warn('mqtt publish failed', { topic, error: err.message });
      },
    );

  await new Promise<void>((resolve) =>
    broker.subscribe(
      `iosnet/${deps.chainId}/d/+/req`,
      (packet, cb) => {
        // Only the device itself can publish here (authorizePublish), so the topic names the sender.
        const topic = parseDeviceTopic(packet.topic);
        if (topic?.kind === 'req') {
          const answer = deps.onRequest(topic.deviceHex, new Uint8Array(packet.payload as Buffer));
          if (answer) publish(`iosnet/${deps.chainId}/d/${topic.deviceHex}/res`, answer, false);
        }
        cb();
      },
      resolve,
    ),
  );

  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    // The guard sits between the socket and aedes: a client announcing a packet over the limit is cut off
    // before aedes buffers it (bounded memory per connection).
    const guard = new MqttPacketGuard(MAX_MQTT_PACKET_BYTES);
    guard.on('error', (e) => {
      if (e instanceof IosnetError) deps.refuse('malformed_request', e);
      socket.destroy();
    });
    socket.pipe(guard);
    broker.handle(new DeviceConnection(socket, guard));
  });
  await listenOn(server, listen.port, listen.host, 'mqtt', 'mqtt.listen');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : listen.port;
  return {
    port,
    connectedDevices: () => connected,
    publish,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}

/**
 * What aedes sees of a device's connection: reads come through the packet guard, writes go to the socket
 * corked until the end of the tick. mqtt-packet writes one PUBLISH as several chunks (header, topic,
 * payload) and aedes delivers an announcement to every subscriber in one go; uncorked, each chunk was its
 * own write syscall. Measured (test/bench/device-fanout.ts): with 5,000 devices `writeBuffer` was 20% of
 * the gateway's CPU; with 2,500, runs alternated on the same machine, fan-out p99 393/474 ms uncorked
 * vs 243/210 ms corked.
 */
class DeviceConnection extends Duplex {
  private corked = false;

  constructor(
    private readonly socket: Socket,
    private readonly source: Readable,
  ) {
    super();
    source.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) source.pause();
    });
    source.once('end', () => this.push(null));
    source.once('error', (e) => this.destroy(e));
    socket.once('close', () => this.destroy());
  }

  override _read(): void {
    this.source.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    if (this.socket.write(chunk)) cb();
    else this.socket.once('drain', () => cb());
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.socket.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.socket.destroy();
    cb(err);
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
