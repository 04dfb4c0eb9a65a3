/**
 * Consensus's view of the finalized chain (gateway/consensus/interface.ts FinalizedChain) over the block
 * store and the state: finalizing a block stores it, its certificate and the state block it closes, and
 * commits its execution, in one database transaction (crash-safe: all or nothing).
 */

import type { ParsedBlock } from '../../core/block.js';
import type { Committee } from '../../core/committee.js';
import type { Crypto } from '../../core/crypto.js';
import { IosnetError } from '../../core/errors.js';
import type { Genesis } from '../../core/genesis.js';
import { encodeFinalityCertificate, type FinalityCertificate } from '../../core/header.js';
import { type StateBlock, stateBlockIdOf } from '../../core/state-block.js';
import { commitFinalizedBlock } from '../chain/commit.js';
import type { BlockStore } from '../chain/interface.js';
import { readCommitteeRecord } from '../consensus/epoch-records.js';
import type { FinalizedChain } from '../consensus/interface.js';
import type { Database } from '../db/interface.js';
import type { BlockExecution, ChainState } from '../state/interface.js';

export class StoredChain implements FinalizedChain {
  constructor(
    private readonly deps: {
      readonly db: Database;
      readonly store: BlockStore;
      readonly state: ChainState;
      readonly crypto: Crypto;
      readonly genesis: Genesis;
      readonly genesisHash: Uint8Array;
    },
  ) {}

  get height(): number {
    return this.deps.store.finalizedHeight;
  }

  tip(): { id: Uint8Array; time: number; certificate: FinalityCertificate | null } {
    const h = this.height;
    if (h === 0) return { id: this.deps.genesisHash, time: this.deps.genesis.time, certificate: null };
    const { store } = this.deps;
    return {
      id: store.getBlockId(h)!,
      time: store.getHeader(h)!.time,
      certificate: store.getCertificate(h)!,
    };
  }

  append(
    parsed: ParsedBlock,
    certificate: FinalityCertificate,
    execution: BlockExecution,
    stateBlock: StateBlock | null,
  ): void {
    const { db, store, state } = this.deps;
    db.transaction(() => {
      commitFinalizedBlock({ db, chain: store, state }, { block: parsed, certificate, execution });
      if (stateBlock) {
        try {
          store.putStateBlock(stateBlock, this.committeesNamed(stateBlock));
        } catch (e) {
          // The block is final whatever happens to its state block: a state block that does not link to this
          // node's chain is dropped here and fetched from peers later (ConsensusEngine.requestStateBlocks).
          if (!(e instanceof IosnetError && e.code === 'CHAIN_STATE_BLOCK_INVALID')) throw e;
        }
      }
    });
  }

  addStateBlock(stateBlock: StateBlock): void {
    const latest = this.deps.store.latestStateBlock();
    if (latest && latest.index >= stateBlock.index) return;
    this.deps.db.transaction(() =>
      this.deps.store.putStateBlock(stateBlock, this.committeesNamed(stateBlock)),
    );
  }

  get(height: number): { block: Uint8Array; certificate: Uint8Array } | undefined {
    const block = this.deps.store.getBlockBytes(height);
    const cert = this.deps.store.getCertificate(height);
    return block && cert ? { block, certificate: encodeFinalityCertificate(cert) } : undefined;
  }

  latestStateBlock(): { stateBlock: StateBlock; id: Uint8Array } | undefined {
    const sb = this.deps.store.latestStateBlock();
    return sb ? { stateBlock: sb, id: stateBlockIdOf(this.deps.crypto, sb) } : undefined;
  }

  /** The committee that signs the state block and the one it names next (the same object within an epoch). */
  private committeesNamed(sb: StateBlock): Committee[] {
    const out = [readCommitteeRecord(this.deps.state, sb.epoch)!];
    const next = readCommitteeRecord(this.deps.state, sb.epoch + 1);
    if (next) out.push(next);
    return out;
  }
}
