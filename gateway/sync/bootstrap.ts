/**
 * Bootstrap from a state block (docs/consensus.md §7): a new or long-crashed validator with an empty
 * database joins without replaying history.
 *   1. fetch the chain of state blocks from a peer and verify it from the genesis committee (computed from
 *      the genesis alone) across every committee transition: signatures, links, next-committee hashes;
 *   2. fetch the state snapshot at the latest one's toHeight and accept it only if it rebuilds that
 *      state block's root (a peer cannot feed us a state of its choosing);
 *   3. fetch the block at toHeight with its commit certificate, checked against the committee and the
 *      state root: it is the parent of the next block;
 *   4. store all of it; consensus then catches up with final blocks from there.
 * Every check failure is a typed error naming the peer; nothing is written unless everything checked.
 */
import { parseBlock } from '../../core/block.js';
import { equalBytes } from '../../core/bytes.js';
import {
  type Committee,
  decodeCommittee,
  prepareCommittee,
  verifyCollectiveSignature,
} from '../../core/committee.js';
import type { Crypto } from '../../core/crypto.js';
import { IosnetError } from '../../core/errors.js';
import type { Genesis } from '../../core/genesis.js';
import { decodeFinalityCertificate, VotePhase, voteMessage } from '../../core/header.js';
import { decodeStateBlock, type StateBlock } from '../../core/state-block.js';
import { verifyCommitteeTransition, verifyStateBlock, verifyStateBlockLink } from '../../core/verify.js';
import type { BlockStore } from '../chain/interface.js';
import { genesisCommittee } from '../consensus/hooks.js';
import type { Database } from '../db/interface.js';
import type { Logger } from '../log/logger.js';
import type { Network, PeerId, PeerMessage } from '../network/interface.js';
import { decodeSnapshotChunk, SnapshotImporter } from '../state/snapshot.js';

export class BootstrapError extends IosnetError<'BOOTSTRAP_FAILED'> {
  constructor(message: string, data: Record<string, unknown> = {}) {
    super('BOOTSTRAP_FAILED', `bootstrap: ${message}`, data);
  }
}

export interface BootstrapDeps {
  readonly crypto: Crypto;
  readonly genesis: Genesis;
  readonly network: Network;
  readonly db: Database;
  readonly store: BlockStore;
  readonly log: Logger;
}

/** Request/response over the single-consumer network: one pending request at a time. */
class Requester {
  private pending: { type: PeerMessage['type']; from: PeerId; resolve: (m: PeerMessage) => void } | null =
    null;
  readonly heights = new Map<PeerId, { height: number; stateBlocks: number }>();

  constructor(private readonly network: Network) {
    network.onMessage((from, m) => {
      if (m.type === 'status') this.heights.set(from, { height: m.height, stateBlocks: m.stateBlocks });
      const p = this.pending;
      if (p && m.type === p.type && from === p.from) {
        this.pending = null;
        p.resolve(m);
      }
    });
  }

  ask<T extends PeerMessage['type']>(
    to: PeerId,
    request: PeerMessage,
    reply: T,
    timeoutMs: number,
  ): Promise<Extract<PeerMessage, { type: T }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = null;
        reject(
          new BootstrapError(`no ${reply} from ${to.slice(0, 16)} within ${timeoutMs} ms`, { peer: to }),
        );
      }, timeoutMs);
      this.pending = {
        type: reply,
        from: to,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m as Extract<PeerMessage, { type: T }>);
        },
      };
      if (!this.network.send(to, request)) {
        clearTimeout(timer);
        this.pending = null;
        reject(new BootstrapError(`peer ${to.slice(0, 16)} is not connected`, { peer: to }));
      }
    });
  }
}

async function bestPeer(req: Requester, timeoutMs: number): Promise<PeerId> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const best = [...req.heights]
      .filter(([, s]) => s.stateBlocks > 0)
      .sort((a, b) => b[1].stateBlocks - a[1].stateBlocks)[0];
    if (best) return best[0];
    if (Date.now() > end) throw new BootstrapError('no peer with a state block answered');
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Verifies state blocks from the genesis committee on; returns the last one, its id and committee. */
async function fetchStateBlocks(
  deps: BootstrapDeps,
  req: Requester,
  peer: PeerId,
  timeoutMs: number,
): Promise<{ chain: { stateBlock: StateBlock; committees: Committee[] }[]; committee: Committee }> {
  const { crypto } = deps;
  let committee = prepareCommittee(crypto, genesisCommittee(crypto, deps.genesis));
  let prev: { sb: StateBlock; id: Uint8Array } | null = null;
  const chain: { stateBlock: StateBlock; committees: Committee[] }[] = [];
  for (;;) {
    const reply = await req.ask(
      peer,
      { type: 'getStateBlocks', fromIndex: chain.length, count: 64 },
      'stateBlocks',
      timeoutMs,
    );
    for (const item of reply.items) {
      const sb = decodeStateBlock(item.stateBlock);
      if (sb.index !== chain.length)
        throw new BootstrapError(`state block ${sb.index} out of order`, { peer });
      const signer = committee.committee;
      let id: Uint8Array;
      if (equalBytes(sb.nextCommittee, sb.committee)) {
        id = verifyStateBlock(crypto, sb, committee);
      } else {
        if (!item.nextCommittee)
          throw new BootstrapError(`transition ${sb.index} without its next committee`, { peer });
        const next = verifyCommitteeTransition(crypto, committee, sb, decodeCommittee(item.nextCommittee));
        id = verifyStateBlock(crypto, sb, committee);
        committee = next;
      }
      if (prev) verifyStateBlockLink(prev.sb, prev.id, sb);
      else if (sb.index !== 0) throw new BootstrapError('the first state block is not index 0', { peer });
      chain.push({
        stateBlock: sb,
        committees: committee.committee === signer ? [signer] : [signer, committee.committee],
      });
      prev = { sb, id };
    }
    if (reply.items.length < 64) break;
  }
  if (chain.length === 0) throw new BootstrapError('the peer sent no state block', { peer });
  return { chain, committee: chain.at(-1)!.committees[0]! };
}

export async function bootstrapFromStateBlock(
  deps: BootstrapDeps,
  opts: { timeoutMs: number },
): Promise<{ height: number }> {
  const { crypto, log } = deps;
  const req = new Requester(deps.network);
  const peer = await bestPeer(req, opts.timeoutMs);
  const { chain, committee } = await fetchStateBlocks(deps, req, peer, opts.timeoutMs);
  const latest = chain.at(-1)!.stateBlock;
  log.info('bootstrap: state blocks verified', {
    count: chain.length,
    latest: latest.index,
    toHeight: latest.toHeight,
  });

  // The snapshot at the latest state block, accepted only if it rebuilds its state root.
  const importer = new SnapshotImporter(
    { db: deps.db, crypto, genesis: deps.genesis },
    latest.toHeight,
    latest.stateRoot,
  );
  let cursor: Uint8Array | null = null;
  let records = 0;
  for (;;) {
    const reply = await req.ask(
      peer,
      { type: 'getSnapshot', height: latest.toHeight, cursor },
      'snapshotChunk',
      opts.timeoutMs,
    );
    const chunk = decodeSnapshotChunk(reply.chunk);
    importer.add(chunk);
    records += chunk.entries.length;
    if (chunk.next === null) break;
    cursor = chunk.next;
  }

  // The block at toHeight with its certificate: the parent of the next block.
  const blocks = await req.ask(
    peer,
    { type: 'getBlocks', fromHeight: latest.toHeight, count: 1 },
    'blocks',
    opts.timeoutMs,
  );
  const item = blocks.items[0];
  if (!item) throw new BootstrapError(`the peer did not send block ${latest.toHeight}`, { peer });
  const parsed = parseBlock(crypto, item.block);
  const certificate = decodeFinalityCertificate(item.certificate);
  const header = parsed.block.header;
  if (header.height !== latest.toHeight || !equalBytes(header.stateRoot, latest.stateRoot)) {
    throw new BootstrapError('the block does not end the state block', { peer, height: header.height });
  }
  if (!equalBytes(certificate.blockId, parsed.blockId) || certificate.height !== header.height) {
    throw new BootstrapError('the certificate is for another block', { peer });
  }
  const prepared = prepareCommittee(crypto, committee);
  verifyCollectiveSignature(
    crypto,
    prepared,
    voteMessage(crypto, VotePhase.commit, certificate.view, certificate.blockId),
    certificate.signature,
  );

  // Everything checked: write it.
  importer.finish();
  deps.db.transaction(() => {
    deps.store.bootstrap(latest.toHeight - 1);
    deps.store.putFinalized({ block: parsed, certificate });
  });
  // One transaction each: the store counts its state blocks once a write commits.
  for (const c of chain) deps.store.putStateBlock(c.stateBlock, c.committees);
  log.info('bootstrap: done', { height: latest.toHeight, records, peer });
  return { height: latest.toHeight };
}
