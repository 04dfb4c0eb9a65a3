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
    await client.start();
    const { account, stateBlockIndex } = await client.account();
    const registration = await client.registration();
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
