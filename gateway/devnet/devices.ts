/**
 * The devnet's light-client devices: each is its own process running `iosnet device run --config`, as on
 * a board, against a gateway's MQTT broker (the embedded one, or an external broker with `enrol`).
 *
 *   files       a genesis trust anchor (genesis hash + first committee) and one config per device
 *   register    the device co-signs its register-device transaction (`iosnet device cosign-registration`:
 *               the key is created on first boot and never leaves the device's folder), the owner (a
 *               funded devnet key) checks the body, signs first and submits it, then funds the device
 *   run         `iosnet device run --transact-every MS --transfer-to ADDR`: the device syncs, proves its
 *               account and sends small transfers it follows to grade 2 by proof; every stdout line is a
 *               JSON event that updates the device's view (shown by the devnet's screen)
 *   stop        SIGTERM by pid, SIGKILL after a grace; an IPC channel makes a device stop if we die
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { equalBytes, fromHex, toHex } from '../../core/bytes.js';
import { CborWriter } from '../../core/cbor.js';
import { writeCommittee } from '../../core/committee.js';
import type { Crypto } from '../../core/crypto.js';
import { IosnetError } from '../../core/errors.js';
import { type Genesis, genesisHash } from '../../core/genesis.js';
import { encodeTx, encodeTxBody, type TxBody, txIdOfBody } from '../../core/tx.js';
import type { GatewayClient } from '../api/client.js';
import { genesisCommittee } from '../consensus/hooks.js';
import type { KeyFile } from '../keys/keyfile.js';
import { IOSNET_BIN } from './processes.js';

export const DEVNET_DEVICE_BOARD = 'rpi4';

export interface DevnetDeviceFiles {
  readonly name: string;
  readonly dir: string;
  readonly configPath: string;
  readonly logPath: string;
}

/** What the devnet knows of a running device, from its own (verified) events. */
export interface DeviceView {
  readonly name: string;
  pid: number | null;
  identityHash: string | null;
  address: string | null;
  connected: boolean;
  synced: boolean;
  registered: boolean | null;
  stateBlockIndex: number | null;
  epoch: number | null;
  balance: bigint | null;
  txs: number;
  txErrors: number;
  lastTx: { grade: number; ms: number; kind: string } | null;
  lastError: string | null;
  rejected: number;
  exit: { code: number | null; signal: string | null } | null;
}

export interface DeviceBrokerTarget {
  /** mqtt://host:port */
  readonly broker: string;
  /** Who the tokens are for: the gateway's node public key hex (embedded) or the broker id (external). */
  readonly audience: string;
  /** External broker: enrol each token first (docs/protocol.md §16.4). */
  readonly enrol?: boolean;
}

/** Writes the anchor and the device configs under DIR/devices (configs are rewritten: ports may change). */
export function writeDevnetDeviceFiles(
  crypto: Crypto,
  dir: string,
  genesis: Genesis,
  count: number,
  target: (i: number) => DeviceBrokerTarget,
): DevnetDeviceFiles[] {
  const root = join(dir, 'devices');
  mkdirSync(root, { recursive: true });
  const anchorPath = join(root, 'anchor.cbor');
  if (!existsSync(anchorPath)) {
    writeFileSync(anchorPath, genesisAnchorBytes(crypto, genesis));
  }
  const out: DevnetDeviceFiles[] = [];
  for (let i = 0; i < count; i++) {
    const name = `device-${i + 1}`;
    const ddir = join(root, name);
    mkdirSync(ddir, { recursive: true, mode: 0o700 });
    const t = target(i);
    const config = {
      broker: t.broker,
      audience: t.audience,
      anchor: '../anchor.cbor',
      keyFile: 'keys/device.key',
      boardId: DEVNET_DEVICE_BOARD,
      hardwareSerial: `devnet-${String(i + 1).padStart(4, '0')}`,
      ...(t.enrol ? { enrol: true } : {}),
      backoffInitialMs: 200,
      backoffMaxMs: 5_000,
    };
    const configPath = join(ddir, 'config.json');
    writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);
    out.push({ name, dir: ddir, configPath, logPath: join(root, `${name}.log`) });
  }
  return out;
}

/**
 * The genesis trust anchor of docs/device.md, `[1, 1, genesisHash, Committee]` (device/anchor.ts decodes
 * it; gateway/ does not import device/, so it is written here from core's codec).
 */
export function genesisAnchorBytes(crypto: Crypto, genesis: Genesis): Uint8Array {
  const w = new CborWriter(8192).array(4).uint(1).uint(1).bytes(genesisHash(crypto, genesis));
  writeCommittee(w, genesisCommittee(crypto, genesis));
  return w.finish();
}

interface CosignOutput {
  txId: string;
  chainId: string;
  nonce: number;
  expiry: number;
  fee: string;
  devicePublicKey: string;
  boardId: string;
  hardwareSerial: string;
  deviceSignature: string;
  identityHash: string;
  address: string;
}

/** Runs a device command to completion; its last stdout line is its JSON answer. */
function runDeviceCommand(args: readonly string[], timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [IOSNET_BIN, 'device', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout.trim().split('\n').at(-1) ?? '');
      else
        reject(
          new IosnetError(
            'DEVNET_DEVICE_FAILED',
            `iosnet device ${args[0]} failed: ${stderr.trim() || `exit ${code}`}`,
          ),
        );
    });
  });
}

export interface RegisteredDevice {
  readonly files: DevnetDeviceFiles;
  readonly identityHash: string;
  readonly address: Uint8Array;
  /** false when the chain already held it (a reused devnet). */
  readonly registeredNow: boolean;
}

/**
 * Registers (if the chain does not hold them yet) and funds the devices, owner = `owner`; resolves when
 * every registration is in the gateway's state (a device may connect then) and the funding was admitted.
 */
export async function registerDevnetDevices(
  crypto: Crypto,
  gateway: GatewayClient,
  owner: KeyFile,
  devices: readonly DevnetDeviceFiles[],
  opts: { fund: bigint; timeoutMs?: number },
): Promise<RegisteredDevice[]> {
  const base = (await gateway.account(owner.address)).nonce;
  const cosign = async (d: DevnetDeviceFiles, nonce: number) =>
    JSON.parse(
      await runDeviceCommand([
        'cosign-registration',
        '--config',
        d.configPath,
        '--owner',
        toHex(owner.ed25519.publicKey),
        '--nonce',
        String(nonce),
      ]),
    ) as CosignOutput;
  // In parallel (each is a process start), guessing that every device needs registering (a fresh devnet);
  // a device already on chain (a reused devnet) shifts the nonces and the others co-sign again.
  const first = await Promise.all(devices.map((d, i) => cosign(d, base + i)));
  const known = await Promise.all(first.map((c) => deviceRecord(gateway, c.identityHash)));
  let nonce = base;
  const out: RegisteredDevice[] = [];
  const submit = async (body: TxBody, signatures: (id: Uint8Array) => Uint8Array[]) => {
    const id = txIdOfBody(crypto, encodeTxBody(body));
    await gateway.submitTx(encodeTx({ body, signatures: signatures(id) }));
    return id;
  };
  for (const [i, d] of devices.entries()) {
    let c = first[i]!;
    if (!known[i]) {
      if (c.nonce !== nonce) c = await cosign(d, nonce);
      // The owner signs only what it would have built itself: its key, its nonce, this device's key.
      const body: TxBody = {
        chainId: c.chainId,
        sender: owner.ed25519.publicKey,
        nonce,
        expiry: c.expiry,
        fee: BigInt(c.fee),
        payload: {
          kind: 'registerDevice',
          devicePublicKey: fromHex(c.devicePublicKey),
          boardId: c.boardId,
          hardwareSerial: c.hardwareSerial,
        },
      };
      if (!equalBytes(txIdOfBody(crypto, encodeTxBody(body)), fromHex(c.txId))) {
        throw new IosnetError(
          'DEVNET_DEVICE_FAILED',
          `${d.name}: co-signed registration is not the expected one`,
        );
      }
      await submit(body, (id) => [
        crypto.ed25519.sign(id, owner.ed25519.secretKey),
        fromHex(c.deviceSignature),
      ]);
      nonce++;
    }
    out.push({
      files: d,
      identityHash: c.identityHash,
      address: fromHex(c.address),
      registeredNow: !known[i],
    });
  }
  for (const r of out) {
    if ((await gateway.account(r.address)).balance >= opts.fund / 2n) continue;
    const body: TxBody = {
      chainId: first[0]!.chainId,
      sender: owner.ed25519.publicKey,
      nonce: nonce++,
      expiry: Date.now() + 120_000,
      fee: 0n,
      payload: { kind: 'transfer', to: r.address, amount: opts.fund, memo: new Uint8Array(0) },
    };
    await submit(body, (id) => [crypto.ed25519.sign(id, owner.ed25519.secretKey)]);
  }
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (const r of out) {
    while (!(await deviceRecord(gateway, r.identityHash).catch(() => false))) {
      if (Date.now() > deadline) {
        throw new IosnetError('DEVNET_DEVICE_FAILED', `${r.files.name} was not registered in time`);
      }
      await new Promise((res) => setTimeout(res, 200));
    }
  }
  return out;
}

async function deviceRecord(gateway: GatewayClient, identityHash: string): Promise<boolean> {
  const res = await fetch(`${gateway.base}/devices/${identityHash}`, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) return false;
  return ((await res.json()) as { device: unknown }).device !== null;
}

export interface DeviceProcess {
  readonly view: DeviceView;
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
}

/** Starts `iosnet device run` for a device; its JSON events keep `view` current. */
export function spawnDevice(
  files: DevnetDeviceFiles,
  activity: { everyMs: number; transferTo: Uint8Array; amount?: bigint } | null,
  onEvent: (view: DeviceView, event: Record<string, unknown>) => void = () => {},
): DeviceProcess {
  const log = openSync(files.logPath, 'a');
  const args = [IOSNET_BIN, 'device', 'run', '--config', files.configPath];
  if (activity) {
    args.push('--transact-every', String(activity.everyMs), '--transfer-to', toHex(activity.transferTo));
    if (activity.amount !== undefined) args.push('--amount', String(activity.amount));
  }
  let child: ChildProcess;
  try {
    // Own process group, like the gateways: Ctrl-C reaches the devnet, which stops devices by pid.
    child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', log, 'ipc'], detached: true });
  } finally {
    closeSync(log);
  }
  child.channel?.unref();
  child.on('error', () => {});
  const view = newDeviceView(files.name, child.pid ?? null);
  createInterface({ input: child.stdout! }).on('line', (text) => {
    let e: Record<string, unknown>;
    try {
      e = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    applyDeviceEvent(view, e);
    onEvent(view, e);
  });
  const exited = new Promise<void>((resolve) => {
    child.on('exit', (code, signal) => {
      view.exit = { code, signal };
      resolve();
    });
  });
  return { view, child, exited };
}

/** A device's view before it has said anything. */
export function newDeviceView(name: string, pid: number | null): DeviceView {
  return {
    name,
    pid,
    identityHash: null,
    address: null,
    connected: false,
    synced: false,
    registered: null,
    stateBlockIndex: null,
    epoch: null,
    balance: null,
    txs: 0,
    txErrors: 0,
    lastTx: null,
    lastError: null,
    rejected: 0,
    exit: null,
  };
}

/** Folds one `iosnet device run` event into the view (pure: tested without processes). */
export function applyDeviceEvent(view: DeviceView, e: Record<string, unknown>): void {
  const num = (v: unknown) => (typeof v === 'number' ? v : null);
  switch (e.event) {
    case 'boot':
      view.identityHash = typeof e.identityHash === 'string' ? e.identityHash : null;
      return;
    case 'status':
      view.connected = e.status === 'up';
      return;
    case 'stateBlock':
      view.stateBlockIndex = Math.max(view.stateBlockIndex ?? -1, num(e.index) ?? -1);
      view.epoch = num(e.epoch);
      return;
    case 'synced':
      view.synced = true;
      view.connected = true;
      view.registered = e.registered === true;
      view.stateBlockIndex = Math.max(view.stateBlockIndex ?? -1, num(e.stateBlockIndex) ?? -1);
      view.balance = typeof e.balance === 'string' ? BigInt(e.balance) : view.balance;
      return;
    case 'tx':
      view.txs++;
      view.lastTx = { grade: num(e.grade) ?? 0, ms: num(e.ms) ?? 0, kind: String(e.kind) };
      view.balance = typeof e.balance === 'string' ? BigInt(e.balance) : view.balance;
      view.stateBlockIndex = Math.max(view.stateBlockIndex ?? -1, num(e.stateBlockIndex) ?? -1);
      return;
    case 'txSkipped':
      view.balance = typeof e.balance === 'string' ? BigInt(e.balance) : view.balance;
      return;
    case 'txError':
      view.txErrors++;
      view.lastError = `${String(e.code)}: ${String(e.message)}`.slice(0, 120);
      return;
    case 'rejected':
      view.rejected++;
      view.lastError = `${String(e.code)}: ${String(e.message)}`.slice(0, 120);
      return;
  }
}

/** SIGTERM to every live device, SIGKILL after `graceMs`; resolves when all exited. */
export async function stopDevices(procs: readonly DeviceProcess[], graceMs: number): Promise<void> {
  const alive = procs.filter((p) => p.view.exit === null && p.view.pid !== null);
  for (const p of alive) kill(p.view.pid!, 'SIGTERM');
  const all = Promise.all(alive.map((p) => p.exited));
  const timeout = (ms: number) => new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms).unref());
  if ((await Promise.race([all, timeout(graceMs)])) === 'timeout') {
    for (const p of alive) if (p.view.exit === null) kill(p.view.pid!, 'SIGKILL');
    await Promise.race([all, timeout(5000)]);
  }
}

function kill(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}
