/**
 * `iosnet genesis`: builds and writes a genesis (core/genesis.ts buildGenesis) from validator key files
 * and bucket owners, generating owner keys where none are given.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { equalBytes, toHex } from '../../core/bytes.js';
import { IosnetError } from '../../core/errors.js';
import {
  buildGenesis,
  DEFAULT_CHAIN_PARAMS,
  encodeGenesis,
  type Genesis,
  type GenesisValidatorInput,
  genesisHash,
} from '../../core/genesis.js';
import { addressOf, MAX_CHAIN_ID_BYTES } from '../../core/identity.js';
import {
  AllocationBucket,
  type AllocationBucketName,
  bucketAmount,
  formatIost,
  parseIost,
} from '../../core/token.js';
import { MAX_ENDPOINT_BYTES } from '../../core/tx.js';
import { isFile, writeNewFile } from '../keys/files.js';
import { generateKeyFile, type KeyFile, readKeyFile, writeKeyFile } from '../keys/keyfile.js';
import { defineCommand, printJson, requireOption, UsageError, warn } from './command.js';
import { cliCrypto } from './crypto.js';

const BUCKETS = Object.keys(AllocationBucket) as AllocationBucketName[];
const DEFAULT_CHAIN_ID = 'iosnet-devnet';
const DEFAULT_STAKE = '10000000';
/** Where a lone devnet validator is said to listen; it cannot be dialled, so it is refused for several. */
const DEFAULT_ENDPOINT = '127.0.0.1:0';
const MAX_SHARDS = 1024;
/** The largest time a JavaScript Date can show (ECMA-262 §21.4.1.1). */
const MAX_TIME_MS = 8_640_000_000_000_000;

const USAGE = `usage: iosnet genesis --out FILE --validator KEYFILE[@HOST:PORT]... [options]

Builds a genesis: the 21,000,000,000 IOST supply split into its five buckets
  ${BUCKETS.join(', ')}
and the first validators, each staking --stake from the foundation's share. Writes its canonical CBOR
bytes to FILE and prints the genesis hash.

options:
  --out FILE                    genesis file to create (binary CBOR)
  --chain-id ID                 chain id, at most ${MAX_CHAIN_ID_BYTES} bytes (default ${DEFAULT_CHAIN_ID})
  --shards N                    shard count, 1..${MAX_SHARDS} (default 1)
  --time MS                     genesis time, ms since the Unix epoch (default: now)
  --validator KEYFILE[@HOST:PORT]
                                a validator: a key file made by 'iosnet keygen --validator', and the
                                host:port where its gateway accepts peers. Repeatable. With a single
                                validator the endpoint may be omitted (${DEFAULT_ENDPOINT}); with several,
                                each needs a dialable one.
  --stake IOST                  stake of each validator (default ${DEFAULT_STAKE} IOST; at least
                                ${formatIost(DEFAULT_CHAIN_PARAMS.minValidatorStake)} IOST)
  --owner BUCKET=ADDRESS        owner address (64 hex digits) of a bucket. Repeatable.
  --keys-dir DIR                where to keep keys of buckets without --owner: DIR/<bucket>.key.json is
                                reused if present, else generated (mode 0600). Required unless every
                                bucket has an --owner.
  --force                       replace FILE if it exists
  --json                        print one JSON object
  -h, --help                    show this help`;

function parseUint(text: string, option: string, max: number): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`--${option} must be a non-negative integer, got '${text}'`);
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n > max) throw new UsageError(`--${option} must be at most ${max}`);
  return n;
}

function parseEndpoint(text: string, arg: string): string {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^\s:@[\]]+):(\d{1,5})$/.exec(text);
  if (!m || Number(m[2]) > 65535) throw new UsageError(`--validator ${arg}: endpoint must be HOST:PORT`);
  if (Buffer.byteLength(text) > MAX_ENDPOINT_BYTES) {
    throw new UsageError(`--validator ${arg}: endpoint is longer than ${MAX_ENDPOINT_BYTES} bytes`);
  }
  return text;
}

/** KEYFILE or KEYFILE@HOST:PORT; a path that exists as given wins, so key files may contain '@'. */
function splitValidatorArg(arg: string): { path: string; endpoint: string | undefined } {
  const at = arg.lastIndexOf('@');
  if (isFile(arg) || at < 0) return { path: arg, endpoint: undefined };
  return { path: arg.slice(0, at), endpoint: parseEndpoint(arg.slice(at + 1), arg) };
}

function parseOwners(args: readonly string[]): Map<AllocationBucketName, Uint8Array> {
  const owners = new Map<AllocationBucketName, Uint8Array>();
  for (const arg of args) {
    const eq = arg.indexOf('=');
    const bucket = arg.slice(0, eq) as AllocationBucketName;
    const address = arg.slice(eq + 1);
    if (eq < 0 || !BUCKETS.includes(bucket)) {
      throw new UsageError(
        `--owner ${arg}: expected BUCKET=ADDRESS with BUCKET one of ${BUCKETS.join(', ')}`,
      );
    }
    if (!/^[0-9a-fA-F]{64}$/.test(address))
      throw new UsageError(`--owner ${arg}: ADDRESS must be 64 hex digits`);
    if (owners.has(bucket)) throw new UsageError(`--owner: bucket ${bucket} given twice`);
    // One allocation per address (core/genesis.ts), so a bucket's holdings stay traceable to its owner.
    const same = [...owners].find(([, a]) => toHex(a) === address.toLowerCase());
    if (same)
      throw new UsageError(
        `--owner: ${bucket} and ${same[0]} have the same address; each bucket needs its own`,
      );
    owners.set(bucket, new Uint8Array(Buffer.from(address, 'hex')));
  }
  return owners;
}

function parseStake(text: string): bigint {
  let stake: bigint;
  try {
    stake = parseIost(text);
  } catch (err) {
    throw new UsageError(`--stake: ${(err as Error).message}`);
  }
  if (stake < DEFAULT_CHAIN_PARAMS.minValidatorStake) {
    throw new UsageError(
      `--stake ${text} IOST is below the minimum validator stake of ${formatIost(DEFAULT_CHAIN_PARAMS.minValidatorStake)} IOST`,
    );
  }
  return stake;
}

interface ValidatorInput extends GenesisValidatorInput {
  readonly keyFile: string;
}

export const command = defineCommand({
  usage: USAGE,
  options: {
    out: { type: 'string' },
    'chain-id': { type: 'string' },
    shards: { type: 'string' },
    time: { type: 'string' },
    validator: { type: 'string', multiple: true },
    stake: { type: 'string' },
    owner: { type: 'string', multiple: true },
    'keys-dir': { type: 'string' },
    force: { type: 'boolean' },
    json: { type: 'boolean' },
  },
  run({ values }) {
    const out = requireOption(values.out, 'out');
    const force = values.force === true;
    const chainId = values['chain-id'] ?? DEFAULT_CHAIN_ID;
    if (chainId === '' || Buffer.byteLength(chainId) > MAX_CHAIN_ID_BYTES) {
      throw new UsageError(`--chain-id must be 1..${MAX_CHAIN_ID_BYTES} bytes`);
    }
    const shardCount = values.shards === undefined ? 1 : parseUint(values.shards, 'shards', MAX_SHARDS);
    if (shardCount < 1) throw new UsageError('--shards must be at least 1');
    const time = values.time === undefined ? Date.now() : parseUint(values.time, 'time', MAX_TIME_MS);
    const stake = parseStake(values.stake ?? DEFAULT_STAKE);
    const owners = parseOwners(values.owner ?? []);
    const validatorArgs = values.validator ?? [];
    if (validatorArgs.length === 0) throw new UsageError('at least one --validator KEYFILE is required');
    const missing = BUCKETS.filter((b) => !owners.has(b));
    const keysDir = values['keys-dir'];
    if (missing.length > 0 && keysDir === undefined) {
      throw new UsageError(
        `--keys-dir is required to generate owner keys for: ${missing.join(', ')} (or give --owner)`,
      );
    }
    // Checked before any key is generated or written, so a refused run changes nothing on disk.
    if (!force && existsSync(out)) {
      throw new IosnetError('FILE_EXISTS', `${out} already exists (use --force to replace it)`, {
        path: out,
      });
    }

    const crypto = cliCrypto();
    const validators: ValidatorInput[] = [];
    const seen = new Set<string>();
    for (const arg of validatorArgs) {
      const { path, endpoint } = splitValidatorArg(arg);
      if (endpoint === undefined && validatorArgs.length > 1) {
        throw new UsageError(`--validator ${arg}: with several validators each needs KEYFILE@HOST:PORT`);
      }
      if (endpoint !== undefined && validatorArgs.length > 1 && endpoint.endsWith(':0')) {
        throw new UsageError(`--validator ${arg}: port 0 cannot be dialled by the other validators`);
      }
      const { key, warning } = readKeyFile(path, crypto);
      if (warning) warn('genesis', warning);
      if (!key.bls) {
        throw new UsageError(
          `--validator ${path}: key file has no BLS key (create it with 'iosnet keygen --validator')`,
        );
      }
      const id = toHex(key.ed25519.publicKey);
      if (seen.has(id)) throw new UsageError(`--validator ${arg}: the same key is given twice`);
      seen.add(id);
      const owned = [...owners].find(([, a]) => equalBytes(a, key.address));
      if (owned) {
        throw new UsageError(
          `--validator ${arg}: its address is also the --owner of ${owned[0]}; use another key`,
        );
      }
      validators.push({
        keyFile: path,
        nodePublicKey: key.ed25519.publicKey,
        blsPublicKey: key.bls.publicKey,
        blsPop: key.bls.pop,
        endpoint: endpoint ?? DEFAULT_ENDPOINT,
        stake,
      });
    }

    const ownerAddresses = new Map(owners);
    const reusedKeys: { bucket: AllocationBucketName; path: string }[] = [];
    const newKeys: { bucket: AllocationBucketName; path: string; key: KeyFile }[] = [];
    for (const bucket of missing) {
      const path = join(keysDir!, `${bucket}.key.json`);
      if (existsSync(path)) {
        const { key, warning } = readKeyFile(path, crypto);
        if (warning) warn('genesis', warning);
        ownerAddresses.set(bucket, key.address);
        reusedKeys.push({ bucket, path });
      } else {
        const key = generateKeyFile(crypto, { validator: false });
        ownerAddresses.set(bucket, key.address);
        newKeys.push({ bucket, path, key });
      }
    }

    const genesis = buildGenesis({
      chainId,
      time,
      shardCount,
      bucketOwners: Object.fromEntries(ownerAddresses) as Record<AllocationBucketName, Uint8Array>,
      validators,
      crypto,
    });
    const bytes = encodeGenesis(genesis);
    const hash = genesisHash(crypto, genesis);

    if (newKeys.length > 0) mkdirSync(keysDir!, { recursive: true, mode: 0o700 });
    for (const k of newKeys) writeKeyFile(k.path, k.key, { force: false });
    writeNewFile(out, bytes, { mode: 0o644, force });

    report(values.json === true, out, bytes, hash, genesis, validators, ownerAddresses, {
      generated: newKeys.map(({ bucket, path }) => ({ bucket, path })),
      reused: reusedKeys,
    });
  },
});

function report(
  json: boolean,
  out: string,
  bytes: Uint8Array,
  hash: Uint8Array,
  genesis: Genesis,
  validators: readonly ValidatorInput[],
  owners: ReadonlyMap<AllocationBucketName, Uint8Array>,
  keys: { generated: { bucket: string; path: string }[]; reused: { bucket: string; path: string }[] },
): void {
  const crypto = cliCrypto();
  const buckets = BUCKETS.map((bucket) => ({
    bucket,
    owner: toHex(owners.get(bucket)!),
    amount: bucketAmount(bucket).toString(),
    amountIost: formatIost(bucketAmount(bucket)),
  }));
  const vs = validators.map((v) => ({
    keyFile: v.keyFile,
    address: toHex(addressOf(crypto, v.nodePublicKey)),
    nodePublicKey: toHex(v.nodePublicKey),
    blsPublicKey: toHex(v.blsPublicKey),
    endpoint: v.endpoint,
    stake: v.stake.toString(),
    stakeIost: formatIost(v.stake),
  }));
  if (json) {
    printJson({
      file: out,
      size: bytes.length,
      genesisHash: toHex(hash),
      chainId: genesis.chainId,
      shardCount: genesis.shardCount,
      time: genesis.time,
      buckets,
      validators: vs,
      generatedKeys: keys.generated,
      reusedKeys: keys.reused,
    });
    return;
  }
  const lines = [
    `wrote ${out} (${bytes.length} bytes)`,
    `genesis hash  ${toHex(hash)}`,
    `chain id      ${genesis.chainId}`,
    `shards        ${genesis.shardCount}`,
    `time          ${genesis.time} (${new Date(genesis.time).toISOString()})`,
    'buckets:',
    ...buckets.map(
      (b) => `  ${b.bucket.padEnd(24)} ${`${b.amountIost} IOST`.padStart(17)}  owner ${b.owner}`,
    ),
    `validators (stake drawn from foundation):`,
    ...vs.flatMap((v) => [
      `  ${v.address}  stake ${v.stakeIost} IOST  endpoint ${v.endpoint}`,
      `    node ${v.nodePublicKey}  bls ${v.blsPublicKey}`,
    ]),
  ];
  if (keys.generated.length > 0)
    lines.push('generated owner keys:', ...keys.generated.map((k) => `  ${k.path}`));
  if (keys.reused.length > 0) lines.push('reused owner keys:', ...keys.reused.map((k) => `  ${k.path}`));
  console.log(lines.join('\n'));
}
