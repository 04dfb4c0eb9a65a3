/**
 * Simulated devices for the fan-out benchmark (test/bench/device-fanout.ts), run in a worker thread so
 * the broker and the devices use separate cores. Each device is a raw MQTT 3.1.1 connection over node:net
 * with mqtt-packet as the codec (mqtt.js's own): CONNECT with its username and a signed single-use token,
 * SUBSCRIBE at QoS 1 to the shard's announcement topic and its own response topic (what a real device
 * does), PUBACK for every QoS 1 PUBLISH. The packets on the wire are what mqtt.js sends; what is left
 * out is mqtt.js's per-connection machinery (stores, timers, streams), so that one thread can hold 5,000
 * connections without being the bottleneck of what is measured.
 *
 * Receipt time is taken when the PUBLISH is parsed (performance.timeOrigin + performance.now(): the wall
 * clock, comparable across threads). The state block index is decoded once per distinct announcement.
 */
import { connect } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import mqttPacket from 'mqtt-packet';
import { decodeStateBlockAnnouncement } from '../../core/device-protocol.js';

export interface FanoutDevice {
  readonly username: string;
  readonly password: string;
  readonly announcements: string;
  readonly response: string;
}

export interface FanoutWorkerData {
  readonly port: number;
  readonly devices: readonly FanoutDevice[];
  /** Connections opened at once (the rest wait for a CONNACK). */
  readonly concurrency: number;
}

/** worker -> parent messages */
export type FanoutWorkerMessage =
  | { readonly type: 'ready'; readonly connected: number; readonly refused: number; readonly ms: number }
  /** index -> receipt times (ms, wall clock), one per device that got it */
  | { readonly type: 'receipts'; readonly receipts: Record<number, number[]>; readonly disconnects: number };

const now = () => performance.timeOrigin + performance.now();

function run(data: FanoutWorkerData): void {
  const receipts = new Map<number, number[]>();
  const indexOf = new Map<string, number>();
  let connected = 0;
  let refused = 0;
  let disconnects = 0;
  let next = 0;
  let ready = false;
  const t0 = now();

  const settle = () => {
    if (ready || connected + refused < data.devices.length) return;
    ready = true;
    parentPort!.postMessage({ type: 'ready', connected, refused, ms: now() - t0 });
  };

  const open = () => {
    const i = next++;
    if (i >= data.devices.length) return;
    const d = data.devices[i]!;
    const socket = connect({ port: data.port, host: '127.0.0.1' });
    socket.setNoDelay(true);
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    let subscribed = false;
    parser.on('packet', (p: mqttPacket.Packet) => {
      if (p.cmd === 'connack') {
        if ((p as mqttPacket.IConnackPacket).returnCode !== 0) {
          refused++;
          socket.destroy();
          open();
          settle();
          return;
        }
        socket.write(
          mqttPacket.generate({
            cmd: 'subscribe',
            messageId: 1,
            subscriptions: [
              { topic: d.announcements, qos: 1 },
              { topic: d.response, qos: 1 },
            ],
          }),
        );
      } else if (p.cmd === 'suback') {
        if (subscribed) return;
        subscribed = true;
        connected++;
        open();
        settle();
      } else if (p.cmd === 'publish') {
        const t = now();
        const pub = p as mqttPacket.IPublishPacket;
        if (pub.qos === 1) socket.write(mqttPacket.generate({ cmd: 'puback', messageId: pub.messageId! }));
        if (pub.topic !== d.announcements) return;
        const payload = pub.payload as Buffer;
        // The first bytes hold the state block's chain, shard, epoch, index and heights: unique per block
        // (the tail is not: two transitions to look-alike committees end alike).
        const key = payload.subarray(0, 96).toString('hex');
        let index = indexOf.get(key);
        if (index === undefined) {
          index = decodeStateBlockAnnouncement(new Uint8Array(payload)).stateBlock.index;
          indexOf.set(key, index);
        }
        const list = receipts.get(index);
        if (list) list.push(t);
        else receipts.set(index, [t]);
      }
    });
    socket.on('data', (b) => parser.parse(b));
    socket.on('error', () => {});
    socket.on('close', () => {
      if (subscribed) disconnects++;
      else if (!ready) {
        refused++;
        open();
        settle();
      }
    });
    socket.write(
      mqttPacket.generate({
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 4,
        clean: true,
        clientId: d.username,
        keepalive: 0,
        username: d.username,
        password: Buffer.from(d.password),
      }),
    );
  };

  for (let k = 0; k < data.concurrency; k++) open();
  parentPort!.on('message', (m: { type: 'collect' }) => {
    if (m.type !== 'collect') return;
    parentPort!.postMessage({
      type: 'receipts',
      receipts: Object.fromEntries(receipts),
      disconnects,
    } satisfies FanoutWorkerMessage);
  });
}

if (parentPort && workerData) run(workerData as FanoutWorkerData);
