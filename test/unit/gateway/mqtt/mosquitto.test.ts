import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromHex } from '../../../../core/bytes.js';
import { encodeDeviceRequest } from '../../../../core/device-protocol.js';
import { decodeDeviceRecord } from '../../../../core/state.js';
import { verifyStateProof } from '../../../../core/verify.js';
import { DEVNET_CHAIN_ID } from '../../../../gateway/devnet/files.js';
import { startMosquitto, type TestMosquitto } from '../../../helpers/mosquitto.js';
import {
  connectDevice,
  crypto,
  type MqttFixture,
  makeDevice,
  ResponseInbox,
  registerDevices,
  startMqttFixture,
  type TestDevice,
  tokenFor,
  waitFor,
} from './fixture.js';

const GATEWAY_USER = 'iosnet-gateway';
const GATEWAY_PASSWORD = 'gateway-secret';

let mosquitto: TestMosquitto | undefined;
let f: MqttFixture;
let url: string;
let audience: string;
let alice: TestDevice;
let bob: TestDevice;
let mallory: TestDevice;
const clients: MqttClient[] = [];

/** Hands a token to the gateway as an anonymous client, as a device does on an external broker. */
async function enrol(d: TestDevice, password: string): Promise<void> {
  const anon = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
  await anon.publishAsync(`iosnet/${DEVNET_CHAIN_ID}/auth/${d.hex}`, Buffer.from(fromHex(password)), {
    qos: 1,
  });
  await anon.endAsync();
}

/** Connects once the gateway's reload took effect (or fails after `ms`). */
async function connectWhenEnrolled(d: TestDevice, password: string, ms = 3_000): Promise<MqttClient> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const c = await connectDevice(url, d, password);
      clients.push(c);
      return c;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

async function refusals(reason: string): Promise<number> {
  return f.node.metrics.counterValue('iosnet_mqtt_refusals_total', { reason });
}

beforeAll(async () => {
  mosquitto = await startMosquitto({
    chainId: DEVNET_CHAIN_ID,
    gatewayUser: GATEWAY_USER,
    gatewayPassword: GATEWAY_PASSWORD,
  });
  const files = mosquitto.files;
  url = mosquitto.url;
  audience = mosquitto.audience;
  f = await startMqttFixture(
    { url, username: GATEWAY_USER, password: GATEWAY_PASSWORD },
    { mosquitto: files },
  );
  alice = makeDevice(f, 'SN-alice');
  bob = makeDevice(f, 'SN-bob');
  mallory = makeDevice(f, 'SN-mallory');
  await registerDevices(f, [alice, bob]);
}, 30_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true).catch(() => {})));
  await f?.close();
  await mosquitto?.stop();
});

describe('external broker (Mosquitto)', () => {
  it('serves a registered device that enrolled its token: its registration proof verifies', async () => {
    const password = tokenFor(f, alice, { audience });
    await enrol(alice, password);
    const c = await connectWhenEnrolled(alice, password);
    const inbox = new ResponseInbox(c, alice.topics.response);
    await c.subscribeAsync([alice.topics.response], { qos: 1 });
    c.publish(
      alice.topics.request,
      Buffer.from(
        encodeDeviceRequest({ kind: 'proveRecord', requestId: 1, namespace: 'device', id: alice.id }),
      ),
      { qos: 1 },
    );
    const r = await inbox.next(1);
    if (r.kind !== 'recordProof') throw new Error(`got ${r.kind}`);
    const record = verifyStateProof(crypto, r.stateBlock.stateRoot, r.proof, {
      namespace: 'device',
      id: alice.id,
    });
    expect(decodeDeviceRecord(record!).devicePublicKey).toEqual(alice.key.ed25519.publicKey);
    expect(f.node.mqtt!.connectedDevices()).toBeGreaterThanOrEqual(1);
  });

  it('refuses an unregistered device and a replayed enrolment; neither gets a credential', async () => {
    const before = await refusals('unregistered');
    const mp = tokenFor(f, mallory, { audience });
    await enrol(mallory, mp);
    await waitFor(async () => ((await refusals('unregistered')) > before ? true : undefined));
    await expect(connectDevice(url, mallory, mp)).rejects.toMatchObject({ code: 5 });

    const bp = tokenFor(f, bob, { audience });
    await enrol(bob, bp);
    (await connectWhenEnrolled(bob, bp)).end(true);
    const replays = await refusals('replayed');
    await enrol(bob, bp);
    await waitFor(async () => ((await refusals('replayed')) > replays ? true : undefined));
  });

  it("a device cannot read another device's responses (ACL: silent denial)", async () => {
    const bp = tokenFor(f, bob, { audience });
    await enrol(bob, bp);
    const spy = await connectWhenEnrolled(bob, bp);
    const seen: string[] = [];
    spy.on('message', (t) => seen.push(t));
    await spy.subscribeAsync([alice.topics.response, `iosnet/${DEVNET_CHAIN_ID}/d/+/res`], { qos: 1 });
    const ap = tokenFor(f, alice, { audience });
    await enrol(alice, ap);
    const c = await connectWhenEnrolled(alice, ap);
    const inbox = new ResponseInbox(c, alice.topics.response);
    await c.subscribeAsync([alice.topics.response], { qos: 1 });
    c.publish(
      alice.topics.request,
      Buffer.from(encodeDeviceRequest({ kind: 'getTxStatus', requestId: 7, txId: new Uint8Array(32) })),
      { qos: 1 },
    );
    expect((await inbox.next(7)).kind).toBe('txStatus');
    // Bob also publishes on Alice's request topic: the broker drops it (no answer reaches anyone).
    spy.publish(
      alice.topics.request,
      Buffer.from(encodeDeviceRequest({ kind: 'getTxStatus', requestId: 8, txId: new Uint8Array(32) })),
      { qos: 1 },
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(seen).toEqual([]);
    expect(inbox.received.some((m) => m.requestId === 8)).toBe(false);
  });
});
