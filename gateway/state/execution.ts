/**
 * One candidate block being executed (ChainState.beginBlock): an Overlay plus the block's context.
 * finish() runs SystemHooks.endBlock and computes the new root by rewriting, in the in-memory trie, only
 * the paths of the keys the block changed, on top of its parent's version (trie.ts). Nothing is written
 * until ChainState.commit; an execution that is never committed is simply garbage-collected.
 */
import type { Crypto } from '../../core/crypto.js';
import type { Genesis } from '../../core/genesis.js';
import type { Transaction } from '../../core/tx.js';
import { latin1 } from '../util/latin1.js';
import { StateError } from './errors.js';
import type { StateHasher } from './hasher.js';
import type { BlockContext, BlockExecution, SystemHooks } from './interface.js';
import { Overlay, type ParentState } from './overlay.js';
import { applyTransaction } from './rules.js';
import type { BlockChange } from './store.js';
import { encodeStoredRecord } from './store-format.js';
import { hashBytes, sortUpdates, type TrieRoot, type TrieUpdate, type TrieUpdater } from './trie.js';

export type VerifySignatures = boolean | ((index: number) => boolean);

export interface ExecutionDeps {
  readonly crypto: Crypto;
  readonly hasher: StateHasher;
  readonly genesis: Genesis;
  readonly hooks: SystemHooks;
  readonly updater: TrieUpdater;
  /** The tree version of the parent (the committed latest height when the execution began). */
  readonly parentRoot: TrieRoot;
  /** Reads of that version. */
  readonly parent: ParentState;
  /** Identifies the committed state this execution started from (commit refuses any other). */
  readonly owner: object;
  readonly generation: number;
}

/** A changed key as finish() leaves it: for the tree (latin1 value and its hash) and for the store. */
interface ExecutedChange extends TrieUpdate, BlockChange {
  readonly value: string | null;
}

interface Outcome {
  readonly root: TrieRoot;
  readonly rootBytes: Uint8Array;
  readonly changes: readonly ExecutedChange[];
}

export class StateExecution extends Overlay implements BlockExecution {
  private applied = 0;
  private result: Outcome | undefined;
  readonly owner: object;
  readonly generation: number;
  private readonly deps: ExecutionDeps;

  constructor(
    readonly context: BlockContext,
    private readonly verifySignatures: VerifySignatures,
    deps: ExecutionDeps,
  ) {
    super(context.height, deps.hasher, deps.parent);
    this.deps = deps;
    this.owner = deps.owner;
    this.generation = deps.generation;
    deps.hooks.beginBlock(context, this);
  }

  get parentHeight(): number {
    return this.context.height - 1;
  }

  get finished(): boolean {
    return this.result !== undefined;
  }

  /** What finish() computed: the new tree version and the block's record changes. */
  get outcome(): Outcome {
    if (this.result === undefined) throw new StateError('STATE_EXECUTION_CLOSED', 'execution not finished');
    return this.result;
  }

  apply(tx: Transaction, txId: Uint8Array): void {
    if (this.result !== undefined) {
      throw new StateError('STATE_EXECUTION_CLOSED', 'apply() after finish()');
    }
    const index = this.applied++;
    const v = this.verifySignatures;
    const verifySignature = typeof v === 'function' ? v(index) : v;
    const rules = {
      ctx: this.context,
      crypto: this.deps.crypto,
      genesis: this.deps.genesis,
      hooks: this.deps.hooks,
      verifySignature,
    };
    this.atomically(() => applyTransaction(this, rules, tx, txId));
  }

  finish(): Uint8Array {
    if (this.result !== undefined) return this.result.rootBytes;
    this.deps.hooks.endBlock(this.context, this);
    const { hasher } = this.deps;
    const changes: ExecutedChange[] = [];
    for (const e of this.changes()) {
      const r = e.record;
      const stored = r === null ? null : encodeStoredRecord({ namespace: e.namespace, id: e.id, record: r });
      changes.push({
        key: e.key,
        base: e.base,
        stored,
        // The tree's leaves hold the stored record as latin1 (trie.ts); the store writes the bytes.
        value: stored === null ? null : latin1(stored),
        valueHash: r === null ? null : hasher.stateValue(r),
      });
    }
    const root = this.deps.updater.apply(this.deps.parentRoot, sortUpdates(changes));
    this.result = { root, rootBytes: hashBytes(root), changes };
    return this.result.rootBytes;
  }
}
