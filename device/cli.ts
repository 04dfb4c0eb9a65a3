/**
 * `iosnet device run --config FILE [--once]` and `iosnet device identity --config FILE`.
 *
 * run: opens (first boot: creates) the device key, loads the trust anchor, connects over MQTT with a
 * fresh auth token per connection, syncs, proves its account and registration, then follows state
 * blocks until SIGINT/SIGTERM, printing one JSON object per line (events). --once exits after the first
 * sync and proofs. Errors are one line (bin/main.ts prints `iosnet device run: CODE: message`).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fromHex, toHex } from '../core/bytes.js';
import { createPortableCrypto } from '../core/crypto-portable.js';
import { deviceTopics } from '../core/device-protocol.js';
import { IosnetError } from '../core/errors.js';
import { encodeTxBody } from '../core/tx.js';
import { startDeviceActivity } from './activity.js';
import { decodeAnchor } from './anchor.js';
import { authTokenSource } from './auth.js';
import { buildRegistrationRequest, createLightClient } from './client.js';
import { loadDeviceConfig } from './config.js';
import { serveConsoleCommands } from './console-commands.js';
import { DeviceError } from './errors.js';
import { openFileKeyStore } from './keystore.js';
import { MqttTransport } from './transport/mqtt.js';

/** Same shape as gateway/cli/command.ts's CliCommand (device/ does not import gateway/). */
export interface DeviceCliCommand {
  readonly usage: string;
  main(argv: readonly string[]): Promise<void>;
}

const RUN_USAGE = `usage: iosnet device run --config FILE [--once] [--transact-every MS --transfer-to ADDR]

Runs the device light client: key (created on first boot, mode 0600), trust anchor, MQTT to the
gateway (a fresh signed token as the password on each connect), verified sync and proofs.

options:
  --config FILE          device config (JSON, see docs/device.md)
  --once                 exit after the first sync and proofs (prints one JSON object)
  --transact-every MS    send a small transfer every MS ms and follow it to grade 2 by proof
  --transfer-to ADDR     its recipient (account address, 64 hex digits)
  --amount N             its amount in the smallest unit (default 1)
  --fee N                its fee (default 0)
  --service ID           every other round pays this service (32-byte id, hex) instead
  -h, --help             show this help`;

const COSIGN_USAGE = `usage: iosnet device cosign-registration --config FILE --owner PUBKEY --nonce N [--fee N] [--ttl-ms MS]

Prints the register-device transaction for the owner (its Ed25519 public key, hex; the sender), signed
by the device key, as JSON: { txId, body (canonical CBOR, hex), deviceSignature }. The owner signs txId,
submits [ownerSignature, deviceSignature], and the device may connect once it is registered. Needs no
connection: the key never leaves the device.

options:
  --config FILE   device config (JSON, see docs/device.md)
  --owner PUBKEY  the owner's Ed25519 public key (64 hex digits)
  --nonce N       the owner's next nonce
  --fee N         fee in the smallest unit (default 0)
  --ttl-ms MS     expiry, from now (default 120000)
  -h, --help      show this help`;

const IDENTITY_USAGE = `usage: iosnet device identity --config FILE

Prints the device's public key, address and identity hash (creating the key on first boot), for the
owner's register-device transaction.

options:
  --config FILE   device config (JSON, see docs/device.md)
  -h, --help      show this help`;

function usageError(message: string): never {
  throw new IosnetError('CLI_USAGE', message);
}

function parse(
  argv: readonly string[],
  usage: string,
  extra: Record<string, { type: 'boolean' } | { type: 'string' }> = {},
) {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: { config: { type: 'string' }, help: { type: 'boolean', short: 'h' }, ...extra },
    strict: true,
    allowPositionals: true,
  });
  if (values.help) {
    console.log(usage);
    return undefined;
  }
  if (positionals.length > 0) usageError(`unexpected argument '${positionals[0]}'`);
  if (typeof values.config !== 'string' || values.config === '') usageError('--config is required');
  return values as { config: string; once?: boolean } & Record<string, string | boolean | undefined>;
}

function hexArg(v: string | boolean | undefined, name: string, bytes: number): Uint8Array {
  if (typeof v !== 'string' || !new RegExp(`^[0-9a-f]{${bytes * 2}}$`).test(v)) {
    usageError(`${name} must be ${bytes * 2} lowercase hex digits`);
  }
  return fromHex(v);
}

function intArg(v: string | boolean | undefined, name: string, fallback: number, min = 0): number {
  if (v === undefined) return fallback;
  const n = typeof v === 'string' && /^\d{1,15}$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min) usageError(`${name} must be an integer >= ${min}`);
  return n;
}

function bigArg(v: string | boolean | undefined, name: string, fallback: bigint): bigint {
  if (v === undefined) return fallback;
  if (typeof v !== 'string' || !/^\d{1,30}$/.test(v)) usageError(`${name} must be a non-negative integer`);
  return BigInt(v);
}

const portableCrypto = () => createPortableCrypto((n) => new Uint8Array(randomBytes(n)));

function line(value: Record<string, unknown>): void {
  console.log(
    JSON.stringify(value, (_k, v) =>
      typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? toHex(v) : v,
    ),
  );
}

function readAnchor(crypto: ReturnType<typeof portableCrypto>, path: string) {
  let anchorBytes: Uint8Array;
  try {
    anchorBytes = new Uint8Array(readFileSync(path));
  } catch (err) {
    throw new DeviceError(
      'DEVICE_CONFIG_INVALID',
      `config.anchor: cannot read ${path}: ${(err as Error).message}`,
    );
  }
  return decodeAnchor(crypto, anchorBytes);
}

export const identityCommand: DeviceCliCommand = {
  usage: IDENTITY_USAGE,
  async main(argv) {
    const values = parse(argv, IDENTITY_USAGE);
    if (!values) return;
    const config = loadDeviceConfig(values.config);
    const { keyStore, created } = openFileKeyStore({
      ...config,
      path: config.keyFile,
      crypto: portableCrypto(),
    });
    line({
      publicKey: keyStore.publicKey,
      address: keyStore.address,
      identityHash: keyStore.identityHash,
      boardId: keyStore.boardId,
      hardwareSerial: keyStore.hardwareSerial,
      created,
    });
  },
};

export const runCommand: DeviceCliCommand = {
  usage: RUN_USAGE,
  async main(argv) {
    const values = parse(argv, RUN_USAGE, {
      once: { type: 'boolean' },
      'transact-every': { type: 'string' },
      'transfer-to': { type: 'string' },
      amount: { type: 'string' },
      fee: { type: 'string' },
      service: { type: 'string' },
    });
    if (!values) return;
    const everyMs = intArg(values['transact-every'], '--transact-every', 0, 100);
    const activityOpts =
      values['transact-every'] === undefined
        ? undefined
        : {
            everyMs,
            transferTo: hexArg(values['transfer-to'], '--transfer-to', 32),
            amount: bigArg(values.amount, '--amount', 1n),
            fee: bigArg(values.fee, '--fee', 0n),
            ...(values.service === undefined ? {} : { serviceId: hexArg(values.service, '--service', 32) }),
            grade: 2 as const,
            gradeTimeoutMs: 60_000,
          };
    if (activityOpts && values.once) usageError('--transact-every does not go with --once');
    const config = loadDeviceConfig(values.config);
    const crypto = portableCrypto();
    const anchor = readAnchor(crypto, config.anchor);
    const { keyStore, created } = openFileKeyStore({ ...config, path: config.keyFile, crypto });
    const chainId = anchor.committee.chainId;
    const deviceHex = toHex(keyStore.identityHash);
    const topics = deviceTopics(chainId, anchor.committee.shard, keyStore.identityHash);
    const transport = new MqttTransport({
      url: config.broker,
      clientId: deviceHex,
      username: deviceHex,
      password: authTokenSource({
        crypto,
        keyStore,
        chainId,
        audience: config.audience,
        lifetimeMs: config.tokenLifetimeMs,
      }),
      topics,
      ...(config.enrol ? { enrolTopic: topics.auth } : {}),
      backoff: { initialMs: config.backoffInitialMs, maxMs: config.backoffMaxMs, factor: 2 },
      ...(config.caFile ? { ca: readFileSync(config.caFile, 'utf8') } : {}),
    });
    const client = createLightClient({
      anchor,
      transport,
      keyStore,
      crypto,
      requestTimeoutMs: config.requestTimeoutMs,
      maxPendingRequests: config.maxPendingRequests,
      onEvent: (e) => {
        if (values.once) return;
        if (e.type === 'rejected') line({ event: 'rejected', code: e.error.code, message: e.error.message });
        else line({ event: e.type, ...e });
      },
    });
    if (!values.once)
      line({
        event: 'boot',
        identityHash: keyStore.identityHash,
        publicKey: keyStore.publicKey,
        keyCreated: created,
      });
    // On a board, stdin is the serial console: the host's signing commands (docs/flashing.md §11) arrive
    // there, even before the device is registered (the registration is what it signs).
    const stopCommands =
      values.once || process.stdin.isTTY
        ? undefined
        : serveConsoleCommands({
            input: process.stdin,
            output: process.stdout,
            crypto,
            keyStore,
            chainId,
            log: (e) => line(e),
          });
    let activity: ReturnType<typeof startDeviceActivity> | undefined;
    const stop = () => {
      stopCommands?.();
      void activity?.stop();
      void client.close().then(() => process.exit(process.exitCode ?? 0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    // Spawned with an IPC channel (devnet, tests): the parent gone means stop, so no device outlives it.
    if (process.connected) {
      process.once('disconnect', stop);
      process.channel?.unref();
    }
    let first: Awaited<ReturnType<typeof firstSync>>;
    try {
      first = await firstSync(client, values.once === true, (e) => line(e));
    } catch (err) {
      // Nothing more will happen: end the link and the console so the process exits with the error,
      // instead of lingering connected and never reporting synced.
      stopCommands?.();
      await client.close();
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
      process.removeListener('disconnect', stop);
      throw err;
    }
    const { account, stateBlockIndex, registration } = first;
    const summary = {
      event: 'synced',
      identityHash: keyStore.identityHash,
      stateBlockIndex,
      epoch: client.sync.head.committee.committee.epoch,
      balance: account.balance,
      nonce: account.nonce,
      registered: registration !== null,
    };
    line(summary);
    if (activityOpts) activity = startDeviceActivity(client, activityOpts, (r) => line(r));
    if (values.once) {
      await client.close();
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
      process.removeListener('disconnect', stop);
    }
  },
};

/** How long the first sync waits for its registration's proof (per state block, and how many). */
const REGISTRATION_WAIT_MS = 30_000;
const REGISTRATION_WAIT_STATE_BLOCKS = 3;

/** Retry delays of the first sync after a transient failure (then the last one, repeatedly). */
const FIRST_SYNC_RETRY_MS = [1_000, 2_000, 5_000, 10_000] as const;

/**
 * Connects, syncs, and proves the device's account and registration. A request that timed out or a link
 * that dropped is not an answer: on a slow board (an ARM board under qemu, a busy Pi Zero) the first sync
 * can outlast a request's timeout, and the chain moves on meanwhile, so run retries those (with --once,
 * the first one fails). Any other failed check is an answer and ends the run.
 */
async function firstSync(
  client: ReturnType<typeof createLightClient>,
  once: boolean,
  log: (e: Record<string, unknown>) => void,
) {
  for (let attempt = 0; ; attempt++) {
    try {
      // start() connects (waiting as long as it takes) and syncs; after a failed sync, only sync again.
      if (attempt === 0) await client.start();
      else await client.syncNow();
      let registration = await client.registration();
      // The broker lets a device in once its registration is final, which can be before a state block covers
      // it: the proof of the record comes with one of the next state blocks, so wait for a few of them.
      for (let i = 0; registration === null && !once && i < REGISTRATION_WAIT_STATE_BLOCKS; i++) {
        await client.waitForStateBlock(REGISTRATION_WAIT_MS);
        registration = await client.registration();
      }
      const { account, stateBlockIndex } = await client.account();
      return { account, stateBlockIndex, registration };
    } catch (err) {
      const code = err instanceof DeviceError ? err.code : undefined;
      // DEVICE_PROOF_STALE: the head moved past the proof's state block while the answer was on its way.
      const transient =
        code === 'DEVICE_TIMEOUT' || code === 'DEVICE_NOT_CONNECTED' || code === 'DEVICE_PROOF_STALE';
      if (once || !transient) throw err;
      log({ event: 'retry', code, message: (err as Error).message });
      const ms = FIRST_SYNC_RETRY_MS[Math.min(attempt, FIRST_SYNC_RETRY_MS.length - 1)]!;
      await new Promise((r) => setTimeout(r, ms));
    }
  }
}

export const cosignRegistrationCommand: DeviceCliCommand = {
  usage: COSIGN_USAGE,
  async main(argv) {
    const values = parse(argv, COSIGN_USAGE, {
      owner: { type: 'string' },
      nonce: { type: 'string' },
      fee: { type: 'string' },
      'ttl-ms': { type: 'string' },
    });
    if (!values) return;
    const owner = hexArg(values.owner, '--owner', 32);
    if (values.nonce === undefined) usageError('--nonce is required');
    const nonce = intArg(values.nonce, '--nonce', 0);
    const fee = bigArg(values.fee, '--fee', 0n);
    const ttlMs = intArg(values['ttl-ms'], '--ttl-ms', 120_000, 1000);
    const config = loadDeviceConfig(values.config);
    const crypto = portableCrypto();
    const anchor = readAnchor(crypto, config.anchor);
    const { keyStore } = openFileKeyStore({ ...config, path: config.keyFile, crypto });
    const req = buildRegistrationRequest(crypto, keyStore, {
      chainId: anchor.committee.chainId,
      owner,
      nonce,
      expiry: Date.now() + ttlMs,
      fee,
    });
    const p = req.body.payload as { devicePublicKey: Uint8Array; boardId: string; hardwareSerial: string };
    line({
      txId: req.txId,
      body: encodeTxBody(req.body),
      chainId: req.body.chainId,
      nonce: req.body.nonce,
      expiry: req.body.expiry,
      fee: req.body.fee,
      devicePublicKey: p.devicePublicKey,
      boardId: p.boardId,
      hardwareSerial: p.hardwareSerial,
      deviceSignature: req.deviceSignature,
      identityHash: keyStore.identityHash,
      address: keyStore.address,
    });
  },
};
