/**
 * Fixtures for the state, chain and db suites: a single-shard genesis whose bucket owners and validators
 * have deterministic test keys (so tests can sign for them), fresh LMDB directories, block contexts and
 * signed transactions.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildGenesis, type ChainParams, type Genesis } from '../../../../core/genesis.js';
import { IOST_UNIT } from '../../../../core/token.js';
import { signTx, type Transaction, type TxBody, type TxPayload } from '../../../../core/tx.js';
import { createNativeCrypto } from '../../../../gateway/crypto/native.js';
import { type LmdbDatabase, openDatabase } from '../../../../gateway/db/lmdb.js';
import { LmdbChainState, type StateDependencies } from '../../../../gateway/state/chain-state.js';
import type { BlockContext, SystemHooks } from '../../../../gateway/state/interface.js';
import type { StateOptions } from '../../../../gateway/state/options.js';
import { TEST_CHAIN_ID, TEST_TIME } from '../../../helpers/chain.js';
import { testCrypto } from '../../../helpers/crypto.js';
import { bucketOwners, genesisValidators } from '../../../helpers/genesis.js';
import { type Ed25519TestKey, ed25519Key } from '../../../helpers/keys.js';

export const crypto = createNativeCrypto();

export const STATE_PARAMS: ChainParams = {
  blockIntervalMs: 500,
  stateBlockInterval: 4,
  epochLength: 8,
  committeeSize: 4,
  leagueSize: 2,
  minValidatorStake: 1_000_000n * IOST_UNIT,
  unbondingEpochs: 2,
  maxBlockTxs: 10_000,
};

const genesisCache = new Map<string, Genesis>();

/** One shard, two validators; bucket owners are ed25519Key(`owner/${bucket}`). */
export function stateGenesis(params: ChainParams = STATE_PARAMS, shardCount = 1): Genesis {
  const id = JSON.stringify([params, shardCount], (_, v) => (typeof v === 'bigint' ? v.toString() : v));
  let g = genesisCache.get(id);
  if (!g) {
    g = buildGenesis({
      chainId: TEST_CHAIN_ID,
      time: TEST_TIME,
      shardCount,
      params,
      bucketOwners: bucketOwners(),
      validators: genesisValidators(2, params),
      crypto: testCrypto,
    });
    genesisCache.set(id, g);
  }
  return g;
}

/** Holds 40% of the supply, liquid. */
export const whale = (): Ed25519TestKey => ed25519Key('owner/privateSale');
export const validatorKey = (i: number): Ed25519TestKey => ed25519Key(`validator/${i}`);

export interface TempDir {
  readonly path: string;
  remove(): void;
}

export function tempDir(label = 'state'): TempDir {
  const path = mkdtempSync(join(tmpdir(), `iosnet-${label}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export interface Harness {
  readonly dir: TempDir;
  db: LmdbDatabase;
  state: LmdbChainState;
  readonly genesis: Genesis;
  reopen(): Promise<void>;
  close(): Promise<void>;
}

export function openHarness(
  opts: { genesis?: Genesis; options?: Partial<StateOptions>; hooks?: SystemHooks; dir?: TempDir } = {},
): Harness {
  const dir = opts.dir ?? tempDir();
  const genesis = opts.genesis ?? stateGenesis();
  const deps = (db: LmdbDatabase): StateDependencies => ({
    db,
    crypto,
    genesis,
    ...(opts.hooks ? { hooks: opts.hooks } : {}),
  });
  const db = openDatabase({ path: dir.path, noSync: true });
  const h: Harness = {
    dir,
    db,
    state: new LmdbChainState(opts.options ?? {}, deps(db)),
    genesis,
    async reopen() {
      await h.db.close();
      h.db = openDatabase({ path: dir.path, noSync: true });
      h.state = new LmdbChainState(opts.options ?? {}, deps(h.db));
    },
    async close() {
      await h.db.close();
      dir.remove();
    },
  };
  return h;
}

export function context(height: number, overrides: Partial<BlockContext> = {}): BlockContext {
  return {
    chainId: TEST_CHAIN_ID,
    shard: 0,
    height,
    epoch: 0,
    view: 0,
    time: TEST_TIME + height * 500,
    proposerOwner: validatorKey(0).address,
    lastCommit: null,
    params: STATE_PARAMS,
    ...overrides,
  };
}

export interface SignedTx {
  readonly tx: Transaction;
  readonly id: Uint8Array;
}

export function sign(
  from: Ed25519TestKey,
  payload: TxPayload,
  nonce: number,
  overrides: Partial<TxBody> = {},
  extraSigners: readonly Ed25519TestKey[] = [],
): SignedTx {
  const body: TxBody = {
    chainId: TEST_CHAIN_ID,
    sender: from.publicKey,
    nonce,
    expiry: TEST_TIME + 86_400_000,
    fee: 1_000n,
    payload,
    ...overrides,
  };
  return signTx(crypto, body, [from.secretKey, ...extraSigners.map((k) => k.secretKey)]);
}

export function transfer(
  from: Ed25519TestKey,
  to: Uint8Array,
  amount: bigint,
  nonce: number,
  fee = 1_000n,
): SignedTx {
  return sign(from, { kind: 'transfer', to, amount, memo: new Uint8Array(0) }, nonce, { fee });
}
