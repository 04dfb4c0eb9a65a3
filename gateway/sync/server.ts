/**
 * Answers peers that bootstrap (docs/consensus.md §7): the chain of state blocks with the committees
 * their transitions name, and state snapshot chunks at a retained checkpoint.
 */

import { equalBytes } from '../../core/bytes.js';
import { encodeCommittee } from '../../core/committee.js';
import { IosnetError } from '../../core/errors.js';
import { encodeStateBlock } from '../../core/state-block.js';
import type { BlockStore } from '../chain/interface.js';
import type { Network, PeerId, PeerMessage } from '../network/interface.js';
import type { LmdbChainState } from '../state/chain-state.js';
import { encodeSnapshotChunk, exportSnapshotChunk } from '../state/snapshot.js';

/** State blocks per response: 64 (a few hundred bytes each, plus a committee at each transition). */
export const STATE_BLOCKS_PER_RESPONSE = 64;

export class SyncServer {
  constructor(
    private readonly deps: {
      readonly network: Network;
      readonly store: BlockStore;
      readonly state: LmdbChainState;
    },
  ) {}

  /** Handles a sync request; false if the message is not one. */
  handle(from: PeerId, m: PeerMessage): boolean {
    if (m.type === 'getStateBlocks') {
      const items: { stateBlock: Uint8Array; nextCommittee: Uint8Array | null }[] = [];
      const end = m.fromIndex + Math.min(m.count, STATE_BLOCKS_PER_RESPONSE);
      for (let i = m.fromIndex; i < end; i++) {
        const sb = this.deps.store.getStateBlock(i);
        if (!sb) break;
        const transition = !equalBytes(sb.committee, sb.nextCommittee);
        const next = transition ? this.deps.store.getCommittee(sb.nextCommittee) : undefined;
        items.push({ stateBlock: encodeStateBlock(sb), nextCommittee: next ? encodeCommittee(next) : null });
      }
      this.deps.network.send(from, { type: 'stateBlocks', items });
      return true;
    }
    if (m.type === 'getSnapshot') {
      try {
        const chunk = exportSnapshotChunk(this.deps.state, m.height, m.cursor);
        this.deps.network.send(from, {
          type: 'snapshotChunk',
          height: m.height,
          chunk: encodeSnapshotChunk(chunk),
        });
      } catch (e) {
        // Not a retained checkpoint (pruned, or not reached yet): say nothing; the requester asks another peer.
        if (!(e instanceof IosnetError)) throw e;
      }
      return true;
    }
    return false;
  }
}
