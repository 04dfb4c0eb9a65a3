/**
 * device/transport/mqtt.ts against a real MQTT broker (aedes, in-process, on a random TCP port), with a
 * fake gateway answering on the device's request topic: a fresh auth token as the password on every
 * connect, reconnect with backoff after the broker goes away, and resume from the verified head.
 */
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { toHex } from '../../../core/bytes.js';
import { deviceTopics } from '../../../core/device-protocol.js';
import { authTokenSource } from '../../../device/auth.js';
import { createLightClient, type LightClient } from '../../../device/client.js';
import { createMemoryKeyStore } from '../../../device/keystore.js';
import { backoffDelay } from '../../../device/transport/interface.js';
import { MqttTransport } from '../../../device/transport/mqtt.js';
import { TEST_CHAIN_ID } from '../../helpers/chain.js';
import { testCrypto as crypto } from '../../helpers/crypto.js';
import { startDeviceBroker } from '../../helpers/device-broker.js';
import { buildDeviceScenario, DEVICE_START_BALANCE } from '../../helpers/device-gateway.js';
import { ed25519Key } from '../../helpers/keys.js';

const keyStore = createMemoryKeyStore({
  crypto,
  boardId: 'rpi4',
  hardwareSerial: 'SN-mqtt',
  seed: ed25519Key('device/mqtt').secretKey,
});
const deviceHex = toHex(keyStore.identityHash);
const topics = deviceTopics(TEST_CHAIN_ID, 0, keyStore.identityHash);

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

function transportTo(port: number): MqttTransport {
  return new MqttTransport({
    url: `mqtt://127.0.0.1:${port}`,
    clientId: deviceHex,
    username: deviceHex,
    password: authTokenSource({ crypto, keyStore, chainId: TEST_CHAIN_ID, audience: 'test-broker' }),
    topics,
    backoff: { initialMs: 50, maxMs: 400, factor: 2 },
  });
}

describe('MQTT transport', () => {
  it('connects with a signed token, syncs and proves its account over a real broker', async () => {
    const s = buildDeviceScenario({ ...keyStore, owner: ed25519Key('owner').address });
    const broker = await startDeviceBroker(s.gateway, keyStore);
    cleanup.push(() => broker.close());
    const client: LightClient = createLightClient({
      anchor: s.anchor,
      transport: transportTo(broker.port),
      keyStore,
      crypto,
    });
    cleanup.push(() => client.close());
    await client.start();
    expect(client.sync.head.stateBlock!.index).toBe(4);
    expect((await client.account()).account.balance).toBe(DEVICE_START_BALANCE);
    expect(broker.refused).toEqual([]);
  });

  it('reconnects with a fresh token after the broker restarts and resumes from the verified head', async () => {
    const s = buildDeviceScenario({ ...keyStore, owner: ed25519Key('owner').address });
    const nonces = new Set<string>();
    let broker = await startDeviceBroker(s.gateway, keyStore, 0, nonces);
    const port = broker.port;
    const transport = transportTo(port);
    const client = createLightClient({ anchor: s.anchor, transport, keyStore, crypto });
    cleanup.push(() => client.close());
    await client.start();
    const first = broker.passwords[0]!;
    await broker.close();
    await new Promise((r) => setTimeout(r, 150));
    expect(client.connected).toBe(false);
    s.chain.seal();
    const asked: number[] = [];
    s.gateway.tamper = (req, honest) => {
      if (req.kind === 'getStateBlocks') asked.push(req.fromIndex);
      return honest;
    };
    broker = await startDeviceBroker(s.gateway, keyStore, port, nonces);
    cleanup.push(() => broker.close());
    for (let i = 0; i < 100 && client.sync.head.stateBlock!.index < 5; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(client.sync.head.stateBlock!.index).toBe(5);
    expect(asked).toEqual([5]);
    expect(broker.passwords.length).toBeGreaterThanOrEqual(1);
    expect(broker.passwords).not.toContain(first);
    expect(broker.refused).toEqual([]);
    expect(transport.connects).toBeGreaterThanOrEqual(2);
  });

  it('keeps retrying with growing, jittered delays while the broker is down', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const t = transportTo(port);
    const started = t.start({ onMessage() {}, onStatus() {} }).catch((e: { code: string }) => e.code);
    await new Promise((r) => setTimeout(r, 600));
    const attempts = t.connects;
    await t.close();
    expect(await started).toBe('DEVICE_CLOSED');
    // 50, ~100, ~200, ~400 ms caps (each at least half the cap): 3 to 6 attempts in 600 ms, not 60.
    expect(attempts).toBeGreaterThanOrEqual(3);
    expect(attempts).toBeLessThanOrEqual(7);
  });

  it('computes exponential backoff with equal jitter', () => {
    const o = { initialMs: 100, maxMs: 1_000, factor: 2 };
    expect([0, 1, 2, 3, 4, 10].map((a) => backoffDelay(a, o, () => 0))).toEqual([
      50, 100, 200, 400, 500, 500,
    ]);
    expect([0, 1, 2, 3, 4, 10].map((a) => backoffDelay(a, o, () => 1))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
  });
});
