/**
 * Fan-out of state block announcements (issue 4: fanoutDevices, fanoutP99Ms): `devices` simulated device
 * connections on ONE gateway's embedded broker, and the delay from the gateway's finalization of a state
 * block to its delivery at every device.
 *
 * The gateway is a real node in this process (startGatewayNode: one validator, LMDB, consensus, its aedes
 * broker); the devices are raw MQTT connections in worker threads (fanout-worker.ts), so broker and
 * devices run on separate cores. Clock: the finalization time is taken in the node's consensus
 * `finalized` event (before the bridge's announce, which runs on the next turn), the receipt time when a
 * device's PUBLISH is parsed; both are the wall clock of this machine (performance.timeOrigin + now()).
 *
 * Devices authenticate as real ones do: each is registered on chain and connects with a fresh single-use
 * token signed by its own key, checked by the gateway against its registry. Registering thousands with one
 * transaction each is done before the measured window, as ONE batch of register-device transactions
 * (owner: the devnet's private-sale key; each co-signed by its device key) admitted straight into the
 * node's mempool: the mempool's per-sender window is raised from 256 to the batch size for this bench
 * only (a config option), so the batch lands in one or two blocks instead of twenty.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { toHex } from '../../core/bytes.js';
import { authTokenPassword, deviceTopics, signDeviceAuthToken } from '../../core/device-protocol.js';
import { deviceIdentityHash } from '../../core/identity.js';
import { encodeTx, signTx } from '../../core/tx.js';
import { admitTx } from '../../gateway/api/queries.js';
import { createNativeCrypto } from '../../gateway/crypto/native.js';
import { createDevnetFiles } from '../../gateway/devnet/files.js';
import { readKeyFile } from '../../gateway/keys/keyfile.js';
import { silentLogger } from '../../gateway/log/logger.js';
import { loadGatewayConfig, startGatewayNode } from '../../gateway/node/node.js';
import type { FanoutDevice, FanoutWorkerData, FanoutWorkerMessage } from './fanout-worker.js';
import { log, percentile, round } from './harness.js';

export interface FanoutOptions {
  readonly devices: number;
  /** State blocks measured after every device is connected. */
  readonly stateBlocks: number;
  readonly workers: number;
}

export interface FanoutResult {
  readonly fanoutDevices: number;
  readonly fanoutStateBlocks: number;
  readonly fanoutDeliveries: number;
  /** Deliveries that never came (device x state block). */
  readonly fanoutMissed: number;
  readonly fanoutP50Ms: number;
  readonly fanoutP99Ms: number;
  readonly fanoutMaxMs: number;
  readonly fanoutConnectMs: number;
  readonly fanoutRegisterMs: number;
  readonly fanoutRefused: number;
}

const now = () => performance.timeOrigin + performance.now();

/** Workers do not inherit tsx's loader (as bin/iosnet.js does): register it, then load the worker. */
const WORKER_BOOT = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(
  new URL('./fanout-worker.ts', import.meta.url).href,
)}); })`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, read: () => T | undefined, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = read();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`fanout: timed out waiting for ${what}`);
    await sleep(50);
  }
}

export async function measureFanout(opts: FanoutOptions): Promise<FanoutResult> {
  const crypto = createNativeCrypto();
  const dir = mkdtempSync(join(tmpdir(), 'iosnet-fanout-'));
  const workers: Worker[] = [];
  const finalizedAt = new Map<number, number>();
  const files = await createDevnetFiles(crypto, dir, {
    validators: 1,
    withMqtt: true,
    consensus: { blockIntervalMs: 100 },
  });
  const base = loadGatewayConfig(files.nodes[0]!.configPath);
  const config = { ...base, mempool: { ...base.mempool, maxPerSender: opts.devices + 16 } };
  const node = await startGatewayNode(config, {
    log: silentLogger(),
    metrics: { defaultMetrics: false },
    events: {
      finalized: ({ stateBlock }) => {
        if (stateBlock) finalizedAt.set(stateBlock.index, now());
      },
    },
  });
  try {
    const chainId = files.genesis.chainId;
    const validator = readKeyFile(files.nodes[0]!.keyPath, crypto).key;
    const audience = toHex(validator.ed25519.publicKey);
    const owner = readKeyFile(files.bucketKeys.privateSale, crypto).key;
    const port = node.ports.mqtt!;

    log(`fanout: registering ${opts.devices} devices (one batch of register-device transactions)...`);
    const t0 = now();
    const devices = Array.from({ length: opts.devices }, (_, i) => {
      const secretKey = crypto.randomBytes(32);
      const publicKey = crypto.ed25519.getPublicKey(secretKey);
      const serial = `fanout-${i}`;
      return { secretKey, publicKey, serial, id: deviceIdentityHash(crypto, 'rpi4', publicKey, serial) };
    });
    const start = node.state.getAccount(owner.address).nonce;
    for (let i = 0; i < devices.length; i++) {
      const d = devices[i]!;
      const { tx } = signTx(
        crypto,
        {
          chainId,
          sender: owner.ed25519.publicKey,
          nonce: start + i,
          expiry: Date.now() + 600_000,
          fee: 0n,
          payload: {
            kind: 'registerDevice',
            devicePublicKey: d.publicKey,
            boardId: 'rpi4',
            hardwareSerial: d.serial,
          },
        },
        [owner.ed25519.secretKey, d.secretKey],
      );
      admitTx(node, encodeTx(tx));
      if (i % 500 === 499) await new Promise((r) => setImmediate(r)); // let consensus run
    }
    await until(
      'the registrations',
      () => (devices.every((d) => node.state.getDevice(d.id) !== undefined) ? true : undefined),
      120_000,
    );
    const registerMs = now() - t0;
    log(`fanout: registered in ${round(registerMs)} ms; connecting ${opts.devices} devices...`);

    const list: FanoutDevice[] = devices.map((d) => {
      const topics = deviceTopics(chainId, 0, d.id);
      const token = signDeviceAuthToken(
        crypto,
        { chainId, deviceId: d.id, audience, now: Date.now(), lifetimeMs: 600_000 },
        d.secretKey,
      );
      return {
        username: toHex(d.id),
        password: authTokenPassword(token),
        announcements: topics.announcements,
        response: topics.response,
      };
    });
    const ready: Promise<{ connected: number; refused: number; ms: number }>[] = [];
    const per = Math.ceil(list.length / opts.workers);
    for (let w = 0; w < opts.workers; w++) {
      const data: FanoutWorkerData = { port, devices: list.slice(w * per, (w + 1) * per), concurrency: 64 };
      const worker = new Worker(WORKER_BOOT, { eval: true, workerData: data });
      workers.push(worker);
      ready.push(
        new Promise((resolve, reject) => {
          worker.once('error', reject);
          worker.on('message', (m: FanoutWorkerMessage) => {
            if (m.type === 'ready') resolve(m);
          });
        }),
      );
    }
    const c0 = now();
    const up = await Promise.all(ready);
    const connectMs = now() - c0;
    const connected = up.reduce((a, u) => a + u.connected, 0);
    const refused = up.reduce((a, u) => a + u.refused, 0);
    log(
      `fanout: ${connected} connected (${refused} refused) in ${round(connectMs)} ms; ${node.mqtt!.connectedDevices()} on the broker`,
    );

    // Measure the next `stateBlocks` state blocks finalized after everyone is subscribed.
    const first = Math.max(-1, ...finalizedAt.keys()) + 1;
    const last = first + opts.stateBlocks - 1;
    await until('the measured state blocks', () => (finalizedAt.has(last) ? true : undefined), 120_000);
    await sleep(2000); // deliveries still in flight
    const receipts = await Promise.all(
      workers.map(
        (w) =>
          new Promise<Record<number, number[]>>((resolve) => {
            w.on('message', (m: FanoutWorkerMessage) => {
              if (m.type === 'receipts') resolve(m.receipts);
            });
            w.postMessage({ type: 'collect' });
          }),
      ),
    );
    const delays: number[] = [];
    for (let index = first; index <= last; index++) {
      const at = finalizedAt.get(index)!;
      for (const r of receipts) for (const t of r[index] ?? []) delays.push(t - at);
    }
    const expected = connected * opts.stateBlocks;
    log(
      `fanout: ${delays.length}/${expected} deliveries of state blocks ${first}..${last}: p50 ${round(percentile(delays, 50), 1)} ms, p99 ${round(percentile(delays, 99), 1)} ms`,
    );
    return {
      fanoutDevices: connected,
      fanoutStateBlocks: opts.stateBlocks,
      fanoutDeliveries: delays.length,
      fanoutMissed: expected - delays.length,
      fanoutP50Ms: round(percentile(delays, 50), 1),
      fanoutP99Ms: round(percentile(delays, 99), 1),
      fanoutMaxMs: round(Math.max(...delays), 1),
      fanoutConnectMs: round(connectMs),
      fanoutRegisterMs: round(registerMs),
      fanoutRefused: refused,
    };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
    await node.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
