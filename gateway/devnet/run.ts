/**
 * `iosnet devnet`: a local network of gateway processes with a load generator and a live status.
 *   files (reused, or --fresh) -> one process per gateway (each with its embedded MQTT broker) -> wait for
 *   their APIs -> fund load accounts -> transfers at --tps; light-client devices (devices.ts: each its own
 *   `iosnet device run` process on gateway-1's broker) registered, funded and transacting -> status every
 *   second -> on SIGINT/SIGTERM or --duration: stop the load, stop the devices, then every gateway, by pid
 *   (SIGTERM, then SIGKILL), print a summary.
 * A gateway that dies is reported and the rest go on.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { toHex } from '../../core/bytes.js';
import type { Crypto } from '../../core/crypto.js';
import { IosnetError } from '../../core/errors.js';
import { decodeGenesis } from '../../core/genesis.js';
import { GatewayClient, type StatusView } from '../api/client.js';
import { readKeyFile } from '../keys/keyfile.js';
import { defaultLoadOptions, LoadGenerator, type LoadStats } from '../load/generator.js';
import {
  type DeviceProcess,
  type DeviceView,
  registerDevnetDevices,
  spawnDevice,
  stopDevices,
  writeDevnetDeviceFiles,
} from './devices.js';
import { createDevnetFiles } from './files.js';
import { type GatewayProcess, killOnExit, spawnGateway, stopGateways } from './processes.js';
import { type DevnetSnapshot, frame, networkFigures, renderScreen, statusLine } from './screen.js';

export interface DevnetRunOptions {
  readonly dir: string;
  readonly fresh: boolean;
  readonly validators: number;
  readonly tps: number;
  /** Stop by itself after this many seconds (tests). */
  readonly durationS?: number;
  /** Draw the status (a screen on a terminal, a line every few seconds otherwise). */
  readonly status: boolean;
  /** SIGTERM-to-SIGKILL grace per gateway. */
  readonly stopGraceMs?: number;
  /** Light-client devices over MQTT (default DEVNET_DEVICES). */
  readonly devices?: number;
  /** How often each device sends a transfer. */
  readonly deviceTxEveryMs?: number;
}

export const DEVNET_DEVICES = 3;
/** What the owner gives each device: enough for years of 1-unit transfers. */
const DEVICE_FUND = 1_000_000n;

export interface DevnetOutput {
  write(text: string): void;
  readonly isTTY: boolean;
  readonly columns: number;
}

export interface DevnetSummary {
  readonly chainId: string;
  readonly startupMs: number;
  readonly runMs: number;
  readonly gateways: readonly {
    name: string;
    pid: number;
    finalizedHeight: number | null;
    exit: { code: number | null; signal: string | null } | null;
  }[];
  readonly finalizedHeight: number;
  /** Counted by the gateways since they started (iosnet_finalized_*_total). */
  readonly finalizedBlocks: number;
  readonly finalizedTxs: number;
  readonly load: LoadStats | null;
  /** Median of the gateways' p50s, worst of their p99s (each times the transactions submitted to it). */
  readonly latencyMs: {
    readonly grade1: { p50: number | null; p99: number | null };
    readonly grade2: { p50: number | null; p99: number | null };
  };
  readonly supply: { readonly totalSupply: string; readonly intact: boolean } | null;
  readonly devices: readonly {
    name: string;
    pid: number | null;
    identityHash: string | null;
    stateBlockIndex: number | null;
    epoch: number | null;
    balance: string | null;
    txs: number;
    lastGrade: number | null;
    exit: { code: number | null; signal: string | null } | null;
  }[];
  readonly events: readonly string[];
}

const STATUS_LINE_EVERY_MS = 5000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitForApis(
  procs: readonly GatewayProcess[],
  clients: readonly GatewayClient[],
): Promise<void> {
  const deadline = Date.now() + 60_000;
  const up = new Set<number>();
  while (Date.now() < deadline) {
    await Promise.all(
      clients.map(async (c, i) => {
        if (up.has(i) || procs[i]!.exit) return;
        try {
          await c.status();
          up.add(i);
        } catch {
          // Not listening yet.
        }
      }),
    );
    if (procs.every((p, i) => up.has(i) || p.exit)) break;
    await sleep(100);
  }
  if (up.size === 0) {
    throw new IosnetError('DEVNET_START_FAILED', `no gateway answered; see the logs in ${procs[0]?.logPath}`);
  }
}

/**
 * Waits (briefly) until the mempools are empty and a height was just decided, so the gateways stop before
 * anyone votes on the next one. A gateway restarted after voting at a height it had not decided refuses
 * to vote there again (its signing guard) and, as consensus stands, does not move to the next view: a
 * devnet stopped mid-height could not go on when reused (reported to consensus; this only narrows it).
 */
async function quietMoment(client: GatewayClient): Promise<void> {
  const deadline = Date.now() + 5000;
  let s = await client.status().catch(() => null);
  while (s && s.mempool.size > 0 && Date.now() < deadline) {
    await sleep(50);
    s = await client.status().catch(() => null);
  }
  const from = s?.finalizedHeight;
  while (s && s.finalizedHeight === from && Date.now() < deadline) {
    await sleep(10);
    s = await client.status().catch(() => null);
  }
}

function metricValue(text: string, name: string): number {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

export async function runDevnet(
  crypto: Crypto,
  opts: DevnetRunOptions,
  out: DevnetOutput,
): Promise<DevnetSummary> {
  const t0 = Date.now();
  if (opts.fresh) rmSync(opts.dir, { recursive: true, force: true });
  const genesisPath = join(opts.dir, 'genesis.cbor');
  if (existsSync(genesisPath)) {
    const existing = decodeGenesis(new Uint8Array(readFileSync(genesisPath))).validators.length;
    if (existing !== opts.validators) {
      throw new IosnetError(
        'DEVNET_MISMATCH',
        `${opts.dir} holds a devnet of ${existing} validators: pass --validators ${existing}, or --fresh to start over`,
      );
    }
  }
  const files = await createDevnetFiles(crypto, opts.dir, { validators: opts.validators, withMqtt: true });
  const events: string[] = [];
  const event = (text: string) => events.push(`${new Date().toISOString().slice(11, 19)} ${text}`);
  let stopping = false;
  const procs: GatewayProcess[] = [];
  killOnExit(() => procs);
  const onExit = (p: GatewayProcess) => {
    if (stopping) return;
    const how = p.exit?.signal ?? `code ${p.exit?.code}`;
    event(`${p.name} (pid ${p.pid}) exited (${how}); see ${p.logPath}`);
    // On a terminal the screen shows it; elsewhere it gets a line of its own.
    if (!opts.status || !out.isTTY) out.write(`${p.name} exited (${how}); see ${p.logPath}\n`);
  };
  let load: LoadGenerator | undefined;
  const devices: DeviceProcess[] = [];
  const deviceCount = opts.devices ?? DEVNET_DEVICES;
  const deviceViews = (): DeviceView[] => devices.map((d) => d.view);
  process.on('exit', () => {
    for (const d of devices) if (d.view.exit === null && d.view.pid !== null) kill9(d.view.pid);
  });
  let interval: NodeJS.Timeout | undefined;
  const statuses: (StatusView | null)[] = files.nodes.map(() => null);
  try {
    for (const node of files.nodes) procs.push(spawnGateway(node, opts.dir, onExit));
    out.write(
      `devnet: ${procs.length} gateways (${procs.map((p) => `${p.name} pid ${p.pid}`).join(', ')}), files in ${opts.dir}\n`,
    );
    const clients = procs.map((p) => new GatewayClient(p.apiUrl, { timeoutMs: 2000 }));
    await waitForApis(procs, clients);
    const startupMs = Date.now() - t0;
    out.write(`devnet: APIs up after ${startupMs} ms: ${procs.map((p) => p.apiUrl).join(' ')}\n`);
    // Every gateway serves the dashboard on its API address; the first one's is the one to open.
    out.write(`devnet: dashboard at ${procs[0]!.apiUrl}/ (every gateway serves one at its API address)\n`);

    let stop!: () => void;
    const stopped = new Promise<void>((r) => {
      stop = r;
    });
    const onSignal = () => {
      if (stopping) {
        // A second Ctrl-C: no more waiting.
        for (const p of procs) if (!p.exit) process.kill(p.pid, 'SIGKILL');
        for (const d of devices) if (d.view.exit === null && d.view.pid !== null) kill9(d.view.pid);
        process.exit(130);
      }
      stop();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const duration = opts.durationS ? setTimeout(stop, opts.durationS * 1000) : undefined;

    const runStart = Date.now();
    const snapshot = (): DevnetSnapshot => ({
      chainId: files.genesis.chainId,
      dir: opts.dir,
      uptimeMs: Date.now() - runStart,
      targetTps: opts.tps,
      load: load?.snapshot() ?? null,
      gateways: procs.map((p, i) => ({
        name: p.name,
        pid: p.pid,
        status: p.exit ? null : statuses[i]!,
        exit: p.exit,
      })),
      devices: deviceViews(),
      events,
      dashboardUrl: `${procs[0]!.apiUrl}/`,
    });
    const refresh = async () => {
      await Promise.all(
        clients.map(async (c, i) => {
          statuses[i] = procs[i]!.exit ? null : await c.status().catch(() => null);
        }),
      );
    };
    let lastLine = 0;
    const draw = () => {
      if (!opts.status || stopping) return;
      if (out.isTTY) out.write(frame(renderScreen(snapshot()), out.columns));
      else if (Date.now() - lastLine >= STATUS_LINE_EVERY_MS) {
        lastLine = Date.now();
        out.write(`${statusLine(snapshot())}\n`);
      }
    };
    if (opts.status && out.isTTY) out.write('\x1b[?25l\x1b[2J');
    interval = setInterval(() => {
      refresh().then(draw, () => {});
    }, 1000);

    // Devices use gateway-1's embedded broker; their owner is the community-incentives key (the load
    // generator spends from the private-sale one: separate nonces).
    const startDevices = async () => {
      const gw = files.nodes[0]!;
      const audience = toHex(readKeyFile(gw.keyPath, crypto).key.ed25519.publicKey);
      const deviceFiles = writeDevnetDeviceFiles(crypto, opts.dir, files.genesis, deviceCount, () => ({
        broker: `mqtt://127.0.0.1:${gw.mqttPort}`,
        audience,
      }));
      const owner = readKeyFile(files.bucketKeys.communityIncentives, crypto).key;
      const registered = await registerDevnetDevices(crypto, clients[0]!, owner, deviceFiles, {
        fund: DEVICE_FUND,
      });
      if (stopping) return;
      const fresh = registered.filter((r) => r.registeredNow).length;
      event(`devices: ${registered.length} on ${gw.name}'s broker (${fresh} registered now)`);
      for (const [i, r] of registered.entries()) {
        // Each pays the next one: small transfers around a ring, each followed to grade 2 by proof.
        const next = registered[(i + 1) % registered.length]!;
        devices.push(
          spawnDevice(r.files, {
            everyMs: opts.deviceTxEveryMs ?? 5000,
            transferTo: next.address,
            amount: 1n,
          }),
        );
      }
    };

    if (opts.tps > 0) {
      const funder = readKeyFile(files.bucketKeys.privateSale, crypto).key;
      load = new LoadGenerator(defaultLoadOptions(opts.tps), {
        crypto,
        chainId: files.genesis.chainId,
        funder: {
          secretKey: funder.ed25519.secretKey,
          publicKey: funder.ed25519.publicKey,
          address: funder.address,
        },
        gateways: clients,
      });
      const funding = load.fund().then(
        () => {
          if (!stopping) load!.start();
          event(`load: ${opts.tps} tx/s started`);
        },
        (e: unknown) => {
          event(`load: funding failed (${e instanceof Error ? e.message : String(e)}); running without load`);
          load = undefined;
        },
      );
      await Promise.race([funding, stopped]);
    }
    if (deviceCount > 0) {
      const starting = startDevices().catch((e: unknown) => {
        event(`devices: not started (${e instanceof Error ? e.message : String(e)})`);
      });
      await Promise.race([starting, stopped]);
    }
    await stopped;
    stopping = true;
    if (duration) clearTimeout(duration);
    clearInterval(interval);
    if (opts.status && out.isTTY) out.write('\x1b[?25h\n');
    out.write('devnet: stopping the load...\n');
    await load?.stop();
    const loadStats = load?.snapshot() ?? null;
    // Last look before the gateways go: heights, latencies, counters and the supply invariant.
    await refresh();
    const liveIndex = statuses.findIndex((s, i) => s !== null && !procs[i]!.exit);
    const live = liveIndex >= 0 ? clients[liveIndex]! : undefined;
    const metricsText = live
      ? await fetch(`${live.base}/metrics`, { signal: AbortSignal.timeout(2000) })
          .then((r) => r.text())
          .catch(() => '')
      : '';
    const supply = live ? await live.supply().catch(() => null) : null;
    const net = networkFigures(snapshot().gateways);
    if (devices.length > 0) {
      out.write('devnet: stopping the devices...\n');
      await stopDevices(devices, 3000);
    }
    out.write('devnet: stopping the gateways...\n');
    if (live) await quietMoment(live);
    await stopGateways(procs, opts.stopGraceMs ?? 10_000);
    return {
      chainId: files.genesis.chainId,
      startupMs,
      runMs: Date.now() - runStart,
      gateways: procs.map((p, i) => ({
        name: p.name,
        pid: p.pid,
        finalizedHeight: statuses[i]?.finalizedHeight ?? null,
        exit: p.exit ? { code: p.exit.code, signal: p.exit.signal } : null,
      })),
      finalizedHeight: net.finalizedHeight,
      finalizedBlocks: metricValue(metricsText, 'iosnet_finalized_blocks_total'),
      finalizedTxs: metricValue(metricsText, 'iosnet_finalized_txs_total'),
      load: loadStats,
      latencyMs: { grade1: net.grade1, grade2: net.grade2 },
      supply: supply ? { totalSupply: supply.totalSupply, intact: supply.intact } : null,
      devices: deviceViews().map((v) => ({
        name: v.name,
        pid: v.pid,
        identityHash: v.identityHash,
        stateBlockIndex: v.stateBlockIndex,
        epoch: v.epoch,
        balance: v.balance === null ? null : v.balance.toString(),
        txs: v.txs,
        lastGrade: v.lastTx?.grade ?? null,
        exit: v.exit,
      })),
      events,
    };
  } finally {
    stopping = true;
    if (interval) clearInterval(interval);
    await load?.stop();
    if (devices.some((d) => d.view.exit === null)) await stopDevices(devices, 3000);
    if (procs.some((p) => !p.exit)) await stopGateways(procs, opts.stopGraceMs ?? 10_000);
  }
}

function kill9(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
