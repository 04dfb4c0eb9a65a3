/**
 * ChainState over LMDB (gateway/state/interface.ts). The tree lives in memory as a persistent trie
 * (trie.ts): the committed latest version, and the versions of the two retained checkpoints, are just
 * references to old roots sharing their unchanged subtrees. LMDB holds the records, every block's record
 * changes and the checkpoint marks, no tree nodes (store.ts); opening a directory rebuilds the trees
 * (load.ts). Executions are overlays on top of the latest version (execution.ts).
 *
 * Retained versions: the latest height, the latest checkpoint and the one before it (the toHeights of the
 * latest and previous state blocks). prove() and snapshots work at those.
 */
import { equalBytes } from '../../core/bytes.js';
import type { Crypto } from '../../core/crypto.js';
import { type Genesis, genesisHash } from '../../core/genesis.js';
import { addressOf, shardOf } from '../../core/identity.js';
import type { StateProof } from '../../core/proofs.js';
import {
  type AccountState,
  type DeviceRecord,
  decodeAccount,
  decodeDeviceRecord,
  type FileRecord,
  StateNamespace,
  type StateNamespaceName,
} from '../../core/state.js';
import { type Holdings, sumSupply } from '../../core/token.js';
import type { Database } from '../db/interface.js';
import { bytesOf } from '../util/latin1.js';
import { StateError } from './errors.js';
import { StateExecution, type VerifySignatures } from './execution.js';
import { createStateHasher, type StateHasher } from './hasher.js';
import {
  type BlockContext,
  type BlockExecution,
  type ChainState,
  type ServiceRecord,
  type SystemHooks,
  TxError,
  type ValidatorRecord,
} from './interface.js';
import { type NamespaceName, namespaceNumber } from './keys.js';
import { leafOf, loadTrees } from './load.js';
import { defaultStateOptions, type StateOptions } from './options.js';
import { Overlay, type ParentState } from './overlay.js';
import { registerValidator } from './rules.js';
import { StateStore } from './store.js';
import { encodeStoredRecord, keyBytes, META, metaKey, recordOf } from './store-format.js';
import {
  hashBytes,
  proveTrie,
  TrieBuilder,
  type TrieRoot,
  TrieUpdater,
  trieGet,
  trieLeaves,
} from './trie.js';

export interface StateDependencies {
  readonly db: Database;
  readonly crypto: Crypto;
  readonly genesis: Genesis;
  /** Consensus's part of execution; without it, system transactions are TX_UNSUPPORTED. */
  readonly hooks?: SystemHooks;
}

/** Hooks of a node that runs no consensus rules (tools, tests): system transactions are refused. */
/** Entries (keys read) after which the shared read overlay starts afresh (each ~ a few hundred bytes). */
const READ_VIEW_MAX_ENTRIES = 65_536;

export const noSystemHooks: SystemHooks = {
  initGenesis() {},
  beginBlock() {},
  applySystemTx(_ctx, tx) {
    throw new TxError('TX_UNSUPPORTED', `${tx.body.payload.kind} needs the consensus hooks`);
  },
  endBlock() {},
};

export class LmdbChainState implements ChainState, ParentState {
  readonly genesis: Genesis;
  readonly store: StateStore;
  readonly options: StateOptions;
  /** Heights between checkpoints: the genesis stateBlockInterval unless overridden. */
  readonly checkpointInterval: number;
  private readonly crypto: Crypto;
  private readonly hasher: StateHasher;
  private readonly updater: TrieUpdater;
  private readonly hooks: SystemHooks;
  private readonly db: Database;
  private latest = 0;
  private latestRoot: TrieRoot = null;
  private latestRootBytes: Uint8Array = new Uint8Array(32);
  private checkpointRoot: TrieRoot = null;
  private previousRoot: TrieRoot | undefined;
  private generation = 0;
  private readView: Overlay | undefined;
  private readViewGeneration = -1;
  private closed = false;

  constructor(options: Partial<StateOptions>, deps: StateDependencies) {
    this.options = { ...defaultStateOptions, ...options };
    this.genesis = deps.genesis;
    this.crypto = deps.crypto;
    this.hasher = createStateHasher(deps.crypto);
    this.updater = new TrieUpdater(this.hasher);
    this.hooks = deps.hooks ?? noSystemHooks;
    this.db = deps.db;
    this.checkpointInterval = this.options.checkpointInterval || deps.genesis.params.stateBlockInterval;
    this.store = new StateStore(deps.db, {
      archive: this.options.archive,
      checkpointInterval: this.checkpointInterval,
    });
    const hash = genesisHash(deps.crypto, deps.genesis);
    const stored = this.store.meta.get(metaKey(META.genesis));
    if (stored === undefined) {
      if (this.store.meta.get(metaKey(META.checkpoint)) !== undefined) {
        throw new StateError('STATE_CORRUPT', 'state without a genesis hash');
      }
      this.writeGenesis(hash);
    } else if (!equalBytes(stored, hash)) {
      throw new StateError('STATE_GENESIS_MISMATCH', 'the data directory belongs to another genesis');
    } else {
      const trees = loadTrees(this.store, this.hasher, this.updater);
      this.latest = trees.latest;
      this.setLatest(trees.latestRoot);
      this.checkpointRoot = trees.checkpointRoot;
      this.previousRoot = trees.previousRoot;
    }
  }

  // ---- opening ----

  private writeGenesis(hash: Uint8Array): void {
    const o = new Overlay(0, this.hasher, { readLatest: () => undefined, validatorOwners: () => [] });
    const { shardCount } = this.genesis;
    const mine = (address: Uint8Array) => shardOf(address, shardCount) === this.options.shard;
    for (const a of this.genesis.allocations) {
      if (!mine(a.address)) continue;
      o.putAccount(a.address, {
        balance: a.liquid,
        nonce: 0,
        staked: a.staked,
        unbonding: 0n,
        unbondingEpoch: 0,
        locked: 0n,
      });
    }
    for (const v of this.genesis.validators) {
      if (!mine(addressOf(this.crypto, v.nodePublicKey))) continue;
      registerValidator(o, this.crypto, v.nodePublicKey, v.blsPublicKey, v.endpoint, 0);
    }
    // After accounts and validators: consensus derives the first committees from them.
    this.hooks.initGenesis(this.genesis, o);
    const records: [string, Uint8Array][] = [];
    for (const e of o.changes()) {
      if (e.record === null) continue;
      records.push([e.key, encodeStoredRecord({ namespace: e.namespace, id: e.id, record: e.record })]);
    }
    records.sort((a, b) => (a[0] < b[0] ? -1 : 1));
    const builder = new TrieBuilder(this.hasher).reset(0);
    for (const [key, stored] of records) {
      const leaf = leafOf(this.hasher, key, stored);
      builder.add(leaf);
      this.store.track(key, leaf.value);
    }
    const root = builder.finish();
    const mark = { height: 0, root: hashBytes(root) };
    this.db.transaction(() => {
      this.store.writeInitial(
        records.map(([k, v]) => [keyBytes(k), v] as const),
        mark,
      );
      this.store.meta.put(metaKey(META.genesis), hash);
    });
    this.store.checkpoint = mark;
    this.setLatest(root);
    this.checkpointRoot = root;
  }

  private setLatest(root: TrieRoot): void {
    this.latestRoot = root;
    this.latestRootBytes = hashBytes(root);
  }

  // ---- ParentState ----

  readLatest(stateKey: string): string | undefined {
    return this.store.readLatest(stateKey);
  }

  validatorOwners(): Uint8Array[] {
    return [...this.store.validators.values()];
  }

  // ---- StateReader ----

  /**
   * One read overlay per committed state, shared by every read until the next commit: an overlay caches
   * what it read (decoded), so a mempool that checks thousands of transactions of a few hundred senders
   * between two blocks decodes each account once. It used to be a fresh overlay per read — its map, its
   * arena's first 64 KiB chunk and a decode for every admission: most of the gateway's garbage under load
   * (measured, docs/benchmarks.md). Started afresh past READ_VIEW_MAX_ENTRIES so that reads of ever new
   * keys cannot grow it without bound between two commits.
   */
  private get view(): Overlay {
    let v = this.readView;
    if (
      v === undefined ||
      this.readViewGeneration !== this.generation ||
      v.entries.size >= READ_VIEW_MAX_ENTRIES
    ) {
      v = new Overlay(this.latest, this.hasher, this);
      this.readView = v;
      this.readViewGeneration = this.generation;
    }
    return v;
  }

  get height(): number {
    return this.latest;
  }

  /** Height of the latest checkpoint (the latest state block's toHeight). */
  get checkpoint(): number {
    return this.store.checkpoint.height;
  }

  get previousCheckpoint(): number | undefined {
    return this.store.previous?.height;
  }

  getAccount(address: Uint8Array): AccountState {
    return this.view.getAccount(address);
  }
  getValidator(owner: Uint8Array): ValidatorRecord | undefined {
    return this.view.getValidator(owner);
  }
  listValidators(): ValidatorRecord[] {
    return this.view.listValidators();
  }
  getDevice(identityHash: Uint8Array): DeviceRecord | undefined {
    return this.view.getDevice(identityHash);
  }
  getService(serviceId: Uint8Array): ServiceRecord | undefined {
    return this.view.getService(serviceId);
  }
  getFile(fileRoot: Uint8Array): FileRecord | undefined {
    return this.view.getFile(fileRoot);
  }
  getRecord(namespace: NamespaceName, id: Uint8Array): Uint8Array | undefined {
    return this.view.getRecord(namespace, id);
  }

  // ---- ChainState ----

  root(): Uint8Array {
    return this.latestRootBytes.slice();
  }

  beginBlock(ctx: BlockContext, options: { verifySignatures?: VerifySignatures } = {}): BlockExecution {
    this.assertOpen();
    if (ctx.height !== this.latest + 1) {
      throw new StateError('STATE_NOT_SUCCESSOR', `block ${ctx.height} does not follow ${this.latest}`, {
        height: ctx.height,
        latest: this.latest,
      });
    }
    const parentRoot = this.latestRoot;
    const generation = this.generation;
    return new StateExecution(ctx, options.verifySignatures ?? true, {
      crypto: this.crypto,
      hasher: this.hasher,
      genesis: this.genesis,
      hooks: this.hooks,
      updater: this.updater,
      parentRoot,
      parent: {
        // The index holds the parent's records until another block is committed; then the parent's tree
        // still does (such an execution can no longer be committed, but it can still finish).
        readLatest: (key) =>
          this.generation === generation ? this.store.readLatest(key) : trieGet(parentRoot, key),
        validatorOwners: () => this.validatorOwners(),
      },
      owner: this,
      generation: this.generation,
    });
  }

  /**
   * Makes a finished execution the new final state. Its LMDB writes join the caller's transaction when
   * there is one (gateway/chain's commitFinalizedBlock stores the block in the same one); memory changes
   * only after that transaction has committed.
   */
  commit(execution: BlockExecution): void {
    this.assertOpen();
    if (!(execution instanceof StateExecution) || execution.owner !== this || !execution.finished) {
      throw new StateError('STATE_EXECUTION_CLOSED', 'commit needs a finished execution of this state');
    }
    if (execution.generation !== this.generation || execution.parentHeight !== this.latest) {
      throw new StateError('STATE_NOT_SUCCESSOR', 'another block was committed since this execution began', {
        height: execution.context.height,
        latest: this.latest,
      });
    }
    const height = execution.context.height;
    const { root, rootBytes, changes } = execution.outcome;
    const isCheckpoint = height % this.checkpointInterval === 0;
    this.db.transaction(() => {
      const applyToMemory = this.store.writeBlock(height, rootBytes, changes, isCheckpoint);
      this.db.afterCommit(() => {
        applyToMemory();
        if (isCheckpoint) {
          this.previousRoot = this.checkpointRoot;
          this.checkpointRoot = root;
        }
        this.latest = height;
        this.setLatest(root);
        this.generation++;
      });
    });
  }

  /** Heights whose tree and records are kept: latest, latest checkpoint, previous checkpoint. */
  retainedHeights(): number[] {
    const out = new Set([this.latest, this.checkpoint]);
    if (this.previousCheckpoint !== undefined) out.add(this.previousCheckpoint);
    return [...out].sort((a, b) => a - b);
  }

  private notRetained(height: number): StateError {
    return new StateError('STATE_HEIGHT_NOT_RETAINED', `height ${height} is not retained`, {
      height,
      retained: this.retainedHeights(),
    });
  }

  /** The tree of a retained height. */
  treeAt(height: number): TrieRoot {
    if (height === this.latest) return this.latestRoot;
    if (height === this.checkpoint) return this.checkpointRoot;
    if (height === this.previousCheckpoint && this.previousRoot !== undefined) return this.previousRoot;
    throw this.notRetained(height);
  }

  prove(namespace: StateNamespaceName, id: Uint8Array, height: number = this.latest): StateProof {
    this.assertOpen();
    const key = this.hasher.stateKey(StateNamespace[namespace], id);
    const tree = this.treeAt(height);
    const stored = trieGet(tree, key);
    const record = stored === undefined ? null : recordOf(bytesOf(stored));
    const valueHash = (v: string) => bytesOf(this.hasher.stateValue(recordOf(bytesOf(v))));
    return { namespace, id: id.slice(), record, proof: proveTrie(tree, key, valueHash) };
  }

  /** Root of a retained height. */
  rootAt(height: number): Uint8Array {
    return hashBytes(this.treeAt(height));
  }

  /** Every account's holdings at the latest height (a full scan: for checks, not hot paths). */
  *accounts(): Iterable<Holdings> {
    const ns = String.fromCharCode(namespaceNumber('account'));
    for (const leaf of trieLeaves(this.latestRoot)) {
      if (leaf.value[0] === ns) yield decodeAccount(recordOf(bytesOf(leaf.value)));
    }
  }

  totalSupply(): bigint {
    return sumSupply(this.accounts());
  }

  /** Every device record at the latest height (a full scan, like accounts()). */
  *devices(): Iterable<DeviceRecord> {
    const ns = String.fromCharCode(namespaceNumber('device'));
    for (const leaf of trieLeaves(this.latestRoot)) {
      if (leaf.value[0] === ns) yield decodeDeviceRecord(recordOf(bytesOf(leaf.value)));
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new StateError('STATE_EXECUTION_CLOSED', 'state is closed');
  }

  /** The database belongs to the node; closing the state only refuses further use. */
  async close(): Promise<void> {
    this.closed = true;
  }
}
