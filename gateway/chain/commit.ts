/**
 * Finalizing a block: the block store and the state in ONE database transaction, so that after a crash
 * at any moment the stored blocks and the state agree (a block is stored iff its state changes are).
 */
import type { Database } from '../db/interface.js';
import type { BlockExecution, ChainState } from '../state/interface.js';
import type { BlockStore, FinalizedBlock } from './interface.js';

export function commitFinalizedBlock(
  deps: { readonly db: Database; readonly chain: BlockStore; readonly state: ChainState },
  entry: FinalizedBlock & { readonly execution: BlockExecution },
): void {
  deps.db.transaction(() => {
    deps.chain.putFinalized(entry);
    deps.state.commit(entry.execution);
  });
}
