/**
 * The files of a local devnet: validator keys, the owners of the five IOST buckets, a genesis and one config
 * per gateway, on free loopback ports (ports.ts). `iosnet devnet` and the integration tests both start from here.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Crypto } from '../../core/crypto.js';
import {
  buildGenesis,
  type ChainParams,
  DEFAULT_CHAIN_PARAMS,
  encodeGenesis,
  type Genesis,
} from '../../core/genesis.js';
import { type AllocationBucketName, IOST_UNIT } from '../../core/token.js';
import { generateKeyFile, type KeyFile, readKeyFile, writeKeyFile } from '../keys/keyfile.js';
import { freePort } from './ports.js';

export const DEVNET_CHAIN_ID = 'iosnet-devnet';

/** Short epochs and state blocks so that a devnet shows committee transitions within a minute. */
export const DEVNET_PARAMS: ChainParams = {
  ...DEFAULT_CHAIN_PARAMS,
  blockIntervalMs: 500,
  stateBlockInterval: 8,
  epochLength: 64,
  committeeSize: 64,
  leagueSize: 3,
  maxBlockTxs: 5000,
};

export interface DevnetNodeFiles {
  readonly name: string;
  readonly keyPath: string;
  readonly configPath: string;
  readonly dataDir: string;
  readonly p2pPort: number;
  readonly apiPort: number;
  readonly mqttPort: number;
}

export interface DevnetFiles {
  readonly dir: string;
  readonly genesisPath: string;
  readonly genesis: Genesis;
  readonly nodes: readonly DevnetNodeFiles[];
  /** Key files of the bucket owners (the load generator spends from the private-sale account). */
  readonly bucketKeys: Readonly<Record<AllocationBucketName, string>>;
}

const BUCKETS: readonly AllocationBucketName[] = [
  'privateSale',
  'foundation',
  'communityIncentives',
  'team',
  'earlyInvestorsAdvisors',
];

function keyAt(crypto: Crypto, path: string, validator: boolean): KeyFile {
  if (existsSync(path)) return readKeyFile(path, crypto).key;
  const key = generateKeyFile(crypto, { validator });
  writeKeyFile(path, key, { force: false });
  return key;
}

/**
 * Creates (or, when `dir` already holds a devnet, reuses) the files of `validators` gateways. Reusing keeps
 * the genesis, keys and data; ports are kept from the existing configs.
 */
export async function createDevnetFiles(
  crypto: Crypto,
  dir: string,
  opts: {
    validators: number;
    params?: ChainParams;
    time?: number;
    consensus?: Record<string, number>;
    withMqtt?: boolean;
  },
): Promise<DevnetFiles> {
  mkdirSync(join(dir, 'keys'), { recursive: true });
  const genesisPath = join(dir, 'genesis.cbor');
  const bucketKeys = Object.fromEntries(
    BUCKETS.map((b) => [b, join(dir, 'keys', `${b}.key.json`)]),
  ) as Record<AllocationBucketName, string>;
  const owners = Object.fromEntries(
    BUCKETS.map((b) => [b, keyAt(crypto, bucketKeys[b], false).address]),
  ) as Record<AllocationBucketName, Uint8Array>;
  const nodes: DevnetNodeFiles[] = [];
  const validatorKeys: KeyFile[] = [];
  for (let i = 0; i < opts.validators; i++) {
    const name = `gateway-${i + 1}`;
    const keyPath = join(dir, 'keys', `${name}.key.json`);
    validatorKeys.push(keyAt(crypto, keyPath, true));
    const configPath = join(dir, `${name}.config.json`);
    const existing = existsSync(configPath)
      ? (JSON.parse(readFileSync(configPath, 'utf8')) as {
          p2p: { listen: string };
          api: { listen: string };
          mqtt?: { listen: string };
        })
      : undefined;
    const port = (listen: string | undefined) => (listen ? Number(listen.split(':')[1]) : undefined);
    nodes.push({
      name,
      keyPath,
      configPath,
      dataDir: join(dir, name),
      p2pPort: port(existing?.p2p.listen) ?? (await freePort()),
      apiPort: port(existing?.api.listen) ?? (await freePort()),
      mqttPort: port(existing?.mqtt?.listen) ?? (await freePort()),
    });
  }
  let genesis: Genesis;
  if (existsSync(genesisPath)) {
    const { decodeGenesis } = await import('../../core/genesis.js');
    genesis = decodeGenesis(new Uint8Array(readFileSync(genesisPath)));
  } else {
    genesis = buildGenesis({
      crypto,
      chainId: DEVNET_CHAIN_ID,
      time: opts.time ?? Date.now(),
      params: opts.params ?? DEVNET_PARAMS,
      bucketOwners: owners,
      validators: validatorKeys.map((k, i) => ({
        nodePublicKey: k.ed25519.publicKey,
        blsPublicKey: k.bls!.publicKey,
        blsPop: k.bls!.pop,
        endpoint: `127.0.0.1:${nodes[i]!.p2pPort}`,
        // Unequal stakes, so believability and the league differ between validators.
        stake: BigInt(10_000_000 + i * 2_000_000) * IOST_UNIT,
      })),
    });
    writeFileSync(genesisPath, encodeGenesis(genesis));
  }
  for (const [i, n] of nodes.entries()) {
    const config = {
      dataDir: n.name,
      genesis: 'genesis.cbor',
      key: `keys/${n.name}.key.json`,
      p2p: {
        listen: `127.0.0.1:${n.p2pPort}`,
        peers: nodes.filter((_, j) => j !== i).map((m) => `127.0.0.1:${m.p2pPort}`),
      },
      api: { listen: `127.0.0.1:${n.apiPort}` },
      ...(opts.withMqtt ? { mqtt: { listen: `127.0.0.1:${n.mqttPort}` } } : {}),
      consensus: opts.consensus ?? {},
      log: { level: 'info' },
    };
    writeFileSync(n.configPath, `${JSON.stringify(config, null, 2)}\n`);
  }
  return { dir, genesisPath, genesis, nodes, bucketKeys };
}
