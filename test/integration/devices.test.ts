import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../core/bytes.js';
import {
  type DeviceProcess,
  type DeviceView,
  registerDevnetDevices,
  spawnDevice,
  stopDevices,
  writeDevnetDeviceFiles,
} from '../../gateway/devnet/devices.js';
import { spawnGateway } from '../../gateway/devnet/processes.js';
import { readKeyFile } from '../../gateway/keys/keyfile.js';
import { crypto, TestNet } from '../helpers/gateways.js';
import { startMosquitto, type TestMosquitto } from '../helpers/mosquitto.js';

const GATEWAY_USER = 'iosnet-gateway';
const GATEWAY_PASSWORD = 'devices-it-secret';
const DEVICES_PER_BROKER = 2;

let net: TestNet;
let mosquitto: TestMosquitto | undefined;
const devices: DeviceProcess[] = [];
const events: Record<string, Record<string, unknown>[]> = {};

async function until(what: string, check: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) {
      const views = devices.map((d) => ({ ...d.view, balance: String(d.view.balance) }));
      throw new Error(
        `timed out waiting for ${what}: ${JSON.stringify(views)}\nmosquitto: ${mosquitto?.log() ?? ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  net = await TestNet.create(3);
  const dir = net.dir;
  const chainId = net.files.genesis.chainId;
  mosquitto = await startMosquitto({ chainId, gatewayUser: GATEWAY_USER, gatewayPassword: GATEWAY_PASSWORD });
  const broker = mosquitto;
  const embeddedPort = net.files.nodes[0]!.mqttPort;
  net.configure(0, { mqtt: { listen: `127.0.0.1:${embeddedPort}` } });
  net.configure(1, {
    mqtt: { url: broker.url, username: GATEWAY_USER, password: GATEWAY_PASSWORD, ...broker.files },
  });
  net.start(0);
  net.procs[1] = spawnGateway(net.files.nodes[1]!, dir, () => {}, ['--mqtt-url', broker.url]);
  net.start(2);
  await net.waitHeight(0, 2, 60_000);

  const nodeKey = (i: number) =>
    toHex(readKeyFile(net.files.nodes[i]!.keyPath, crypto).key.ed25519.publicKey);
  const files = writeDevnetDeviceFiles(crypto, dir, net.files.genesis, 2 * DEVICES_PER_BROKER, (i) =>
    i < DEVICES_PER_BROKER
      ? { broker: `mqtt://127.0.0.1:${embeddedPort}`, audience: nodeKey(0) }
      : { broker: broker.url, audience: broker.audience, enrol: true },
  );
  const owner = readKeyFile(net.files.bucketKeys.communityIncentives, crypto).key;
  const registered = await registerDevnetDevices(crypto, net.clients[0]!, owner, files, { fund: 1_000_000n });
  expect(registered.every((r) => r.registeredNow)).toBe(true);
  // The devices pay each other: device i sends to device i+1 (a recipient on its own shard).
  for (const [i, r] of registered.entries()) {
    const next = registered[(i + 1) % registered.length]!;
    events[r.files.name] = [];
    devices.push(
      spawnDevice(r.files, { everyMs: 1500, transferTo: next.address, amount: 10n }, (_v, e) =>
        events[r.files.name]!.push(e),
      ),
    );
  }
}, 120_000);

afterAll(async () => {
  await stopDevices(devices, 3000);
  await net?.close();
  await mosquitto?.stop();
}, 60_000);

const onEmbedded = () => devices.slice(0, DEVICES_PER_BROKER).map((d) => d.view);
const onMosquitto = () => devices.slice(DEVICES_PER_BROKER).map((d) => d.view);

/** Registered (proven), synced past a committee change, and a transfer proven at grade 2. */
function done(v: DeviceView): boolean {
  return v.registered === true && (v.epoch ?? 0) >= 2 && v.lastTx !== null && v.lastTx.grade === 2;
}

function expectHealthy(views: readonly DeviceView[]): void {
  for (const v of views) {
    expect(v.exit, v.name).toBeNull();
    expect(v.registered, v.name).toBe(true);
    expect(v.epoch, v.name).toBeGreaterThanOrEqual(2);
    expect(v.lastTx?.grade, v.name).toBe(2);
    expect(v.balance, v.name).not.toBeNull();
    // Nothing a gateway sent failed a check.
    expect(v.rejected, `${v.name}: ${v.lastError}`).toBe(0);
  }
}

describe('devices over the embedded broker (gateway process, mqtt.listen)', () => {
  it('register, sync across a committee change, prove their accounts, reach grade 2', async () => {
    await until('embedded devices done', () => onEmbedded().every(done), 75_000);
    expectHealthy(onEmbedded());
    // The proven balance moved: each device paid fees-free transfers and received its neighbour's.
    for (const v of onEmbedded()) expect(v.txs).toBeGreaterThanOrEqual(1);
  }, 80_000);
});

describe('devices over a real Mosquitto (gateway --mqtt-url, enrolled tokens)', () => {
  it('register, sync across a committee change, prove their accounts, reach grade 2', async () => {
    await until('Mosquitto devices done', () => onMosquitto().every(done), 40_000);
    expectHealthy(onMosquitto());
    // The gateway wrote credentials for the enrolled devices.
    const passwd = readFileSync(mosquitto!.files.passwordFile, 'utf8');
    for (const v of onMosquitto()) expect(passwd).toContain(`${v.identityHash}:`);
  }, 45_000);

  it('every device proved the same chain: their state block heads agree with the gateways', async () => {
    const status = await net.clients[0]!.status();
    for (const d of devices) {
      const sb = events[d.view.name]!.filter((e) => e.event === 'stateBlock');
      expect(sb.length, d.view.name).toBeGreaterThan(0);
      expect(d.view.epoch!, d.view.name).toBeLessThanOrEqual(status.epoch);
    }
  });
});
