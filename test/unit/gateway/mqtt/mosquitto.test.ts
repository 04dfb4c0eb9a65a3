/**
 * The MQTT bridge through a real external broker: Mosquitto (/usr/sbin/mosquitto, installed by
 * scripts/install-system-deps.sh) in the foreground with its own config on a random free port. The gateway
 * keeps Mosquitto's password file in step with the on-chain registry (docs/protocol.md §16.4): a registered
 * device enrols its token anonymously, then connects with it and is served; an unregistered device, a
 * replayed enrolment and a device reading another's responses get nothing.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromHex } from '../../../../core/bytes.js';
import { encodeDeviceRequest } from '../../../../core/device-protocol.js';
import { decodeDeviceRecord } from '../../../../core/state.js';
import { verifyStateProof } from '../../../../core/verify.js';
import { DEVNET_CHAIN_ID, freePort } from '../../../../gateway/devnet/files.js';
import { mosquittoAcl, mosquittoPasswordLine } from '../../../../gateway/mqtt/mosquitto-files.js';
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

const MOSQUITTO = '/usr/sbin/mosquitto';
const GATEWAY_USER = 'iosnet-gateway';
const GATEWAY_PASSWORD = 'gateway-secret';

let dir: string;
let port: number;
let broker: ChildProcess | undefined;
let f: MqttFixture;
let url: string;
let audience: string;
let alice: TestDevice;
let bob: TestDevice;
let mallory: TestDevice;
const clients: MqttClient[] = [];

function canConnect(p: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tcpConnect(p, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

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
  if (!existsSync(MOSQUITTO)) throw new Error(`${MOSQUITTO} missing: run scripts/install-system-deps.sh`);
  dir = mkdtempSync(join(tmpdir(), 'iosnet-mosquitto-'));
  port = await freePort();
  const files = {
    passwordFile: join(dir, 'passwd'),
    aclFile: join(dir, 'acl'),
    pidFile: join(dir, 'mosquitto.pid'),
  };
  writeFileSync(files.passwordFile, `${mosquittoPasswordLine(GATEWAY_USER, GATEWAY_PASSWORD)}\n`, {
    mode: 0o600,
  });
  writeFileSync(files.aclFile, mosquittoAcl(DEVNET_CHAIN_ID, GATEWAY_USER));
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      `password_file ${files.passwordFile}`,
      `acl_file ${files.aclFile}`,
      `pid_file ${files.pidFile}`,
      'persistence false',
      'log_dest stderr',
      '',
    ].join('\n'),
  );
  // Started as root, Mosquitto drops to user mosquitto before reading its files (ENV-NOTES.md).
  if (process.getuid?.() === 0) {
    for (const p of [dir, files.passwordFile, files.aclFile, conf]) chownSync(p, uidOf('mosquitto'), 0);
  }
  broker = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  broker.stderr!.on('data', (b: Buffer) => {
    log += b.toString();
  });
  await waitFor(async () => ((await canConnect(port)) ? true : undefined), 5_000).catch(() => {
    throw new Error(`mosquitto did not start: ${log}`);
  });
  url = `mqtt://127.0.0.1:${port}`;
  audience = `127.0.0.1:${port}`;
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
  if (broker?.pid !== undefined && broker.exitCode === null) {
    const exited = new Promise((r) => broker!.once('exit', r));
    process.kill(broker.pid, 'SIGTERM');
    await exited;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function uidOf(user: string): number {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${user}:`));
  if (!line) throw new Error(`no user ${user}`);
  return Number(line.split(':')[2]);
}

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
