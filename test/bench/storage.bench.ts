/**
 * `npm run bench:storage -- [--json] [--transfers N] [--accounts N] [--mode both|pruned]`: disk used by a
 * node after N transfers (default 1,000,000) among 100,000 accounts in blocks of 1,000, state blocks every
 * 16 blocks, with the block store and the state in one LMDB environment: once pruned, once archive (fresh
 * directories under os.tmpdir(), deleted afterwards). stateBytes is the state as a node stores it: a fresh
 * store loaded from a snapshot of the final checkpoint (its stateRecord namespace, plus LMDB's meta pages).
 * Target: pruned <= 2x state. Transfers carry random 64-byte signatures (as real Ed25519 ones are), since
 * blocks are stored compressed and the fixture's all-zero placeholders would compress unrealistically well.
 *
 * Retention cycles with the state blocks (32 to 47 blocks of bodies are kept, docs/consensus.md §7), so
 * besides the figures after the last block, prunedPeakBytes is the largest usedBytes after any block.
 *
 * Disk is reported two ways: fileBytes = size of data.mdb, LMDB's high-water mark, which includes pages on
 * its free list (LMDB never shrinks its file); usedBytes = pages holding live data (branch + leaf + overflow
 * pages of every sub-database, from mdb_stat). The ratio target is judged on usedBytes; both are printed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { encodeBlock, lastCommitHash, parseBlock } from '../../core/block.js';
import { type Committee, committeeHash } from '../../core/committee.js';
import { blockIdOf, type FinalityCertificate } from '../../core/header.js';
import { merkleRoot } from '../../core/merkle.js';
import { type StateBlock, stateBlockIdOf, ZERO_HASH } from '../../core/state-block.js';
import type { Transaction } from '../../core/tx.js';
import { LmdbBlockStore } from '../../gateway/chain/block-store.js';
import { commitFinalizedBlock } from '../../gateway/chain/commit.js';
import { createNativeCrypto } from '../../gateway/crypto/native.js';
import type { DiskUsage } from '../../gateway/db/interface.js';
import { openDatabase } from '../../gateway/db/lmdb.js';
import { LmdbChainState } from '../../gateway/state/chain-state.js';
import { exportSnapshotChunk, SnapshotImporter } from '../../gateway/state/snapshot.js';
import {
  BENCH_CHAIN_ID,
  type BenchChain,
  benchContext,
  benchGenesis,
  prng,
  transferBlock,
} from '../unit/gateway/state/bench-fixture.js';
import { log, machine, round } from './harness.js';

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean' },
    transfers: { type: 'string', default: '1000000' },
    accounts: { type: 'string', default: '100000' },
    'block-txs': { type: 'string', default: '1000' },
    // For quick looks: `pruned` skips the archive run (its figures are then 0).
    mode: { type: 'string', default: 'both' },
  },
});
const TRANSFERS = Number(args.transfers);
const ACCOUNTS = Number(args.accounts);
const BLOCK_TXS = Number(args['block-txs']);
const INTERVAL = 16;
const crypto = createNativeCrypto();

const committee: Committee = {
  chainId: BENCH_CHAIN_ID,
  shard: 0,
  epoch: 0,
  leagueSize: 1,
  members: [
    {
      blsPublicKey: crypto.bls.getPublicKey(Uint8Array.from({ length: 32 }, (_, i) => (i === 31 ? 9 : 0))),
      weight: 1,
    },
  ],
};
const cHash = committeeHash(crypto, committee);
const SIG = new Uint8Array(96);
const sigRandom = prng(11);

/**
 * The fixture's transfers carry all-zero placeholder signatures; stored as such they would compress far
 * better than real Ed25519 signatures (64 uniformly random bytes). Random bytes in their place keep the
 * compressed sizes honest; tx ids cover only the body, so nothing else changes.
 */
function withRandomSignatures(txs: Transaction[]): Transaction[] {
  return txs.map((tx) => {
    const sig = new Uint8Array(64);
    for (let i = 0; i < 64; i += 4) new DataView(sig.buffer).setUint32(i, (sigRandom() * 2 ** 32) >>> 0);
    return { body: tx.body, signatures: [sig] };
  });
}

interface RunResult {
  usage: DiskUsage;
  /** The largest usedBytes after any block (just before a state block prunes, retention is largest). */
  peak: DiskUsage;
  height: number;
  checkpoint: number;
  root: Uint8Array;
  snapshotBytes?: number;
  stateUsage?: DiskUsage;
  msPerBlock: number;
  /** GET /txs/:id's store lookup: a tx of the newest retained block, of the oldest, and an unknown id. */
  txLookupMs?: { newest: number; oldest: number; unknown: number };
}

function runChain(archive: boolean): RunResult {
  const chainDef: BenchChain = benchGenesis(crypto, ACCOUNTS, INTERVAL);
  const dir = mkdtempSync(join(tmpdir(), `iosnet-storage-${archive ? 'archive' : 'pruned'}-`));
  const db = openDatabase({ path: dir, noSync: true });
  try {
    const state = new LmdbChainState({ archive }, { db, crypto, genesis: chainDef.genesis });
    const chain = new LmdbBlockStore({ archive }, { db, crypto });
    const random = prng(7);
    let last: FinalityCertificate | null = null;
    let sb: StateBlock | undefined;
    let peak: DiskUsage = db.diskUsage();
    const blocks = Math.ceil(TRANSFERS / BLOCK_TXS);
    const t0 = performance.now();
    for (let height = 1; height <= blocks; height++) {
      const { txs: placeholders, ids } = transferBlock(
        crypto,
        chainDef,
        Math.min(BLOCK_TXS, TRANSFERS - (height - 1) * BLOCK_TXS),
        random,
      );
      const txs = withRandomSignatures(placeholders);
      const ctx = benchContext(chainDef, height);
      const x = state.beginBlock(ctx, { verifySignatures: false });
      for (let i = 0; i < txs.length; i++) x.apply(txs[i]!, ids[i]!);
      const stateRoot = x.finish();
      const fields = {
        chainId: BENCH_CHAIN_ID,
        shard: 0,
        height,
        epoch: ctx.epoch,
        view: 0,
        parent: chain.getBlockId(height - 1) ?? new Uint8Array(32),
        txRoot: merkleRoot(crypto, ids),
        stateRoot,
        proposer: 0,
        time: ctx.time,
        txCount: txs.length,
        lastCommit: lastCommitHash(crypto, last),
      };
      const block = parseBlock(
        crypto,
        encodeBlock({ header: { ...fields, proposerSignature: SIG }, txs, lastCommit: last }),
      );
      const certificate: FinalityCertificate = {
        blockId: blockIdOf(crypto, fields),
        shard: 0,
        height,
        epoch: ctx.epoch,
        view: 0,
        signature: { signers: Uint8Array.of(0x80), signature: SIG },
      };
      db.transaction(() => {
        commitFinalizedBlock({ db, chain, state }, { block, certificate, execution: x });
        if (height % INTERVAL === 0) {
          sb = {
            chainId: BENCH_CHAIN_ID,
            shard: 0,
            epoch: ctx.epoch,
            index: height / INTERVAL - 1,
            fromHeight: height - INTERVAL + 1,
            toHeight: height,
            stateRoot,
            previous: sb ? stateBlockIdOf(crypto, sb) : ZERO_HASH,
            committee: cHash,
            nextCommittee: cHash,
            signature: { signers: Uint8Array.of(0x80), signature: SIG },
          };
          chain.putStateBlock(sb, [committee]);
        }
      });
      last = certificate;
      const u = db.diskUsage();
      if (u.usedBytes > peak.usedBytes) peak = u;
      if (height % 100 === 0) {
        log(
          `${archive ? 'archive' : 'pruned'} block ${height}/${blocks}: used ${round(u.usedBytes / 1e6, 1)} MB, file ${round(u.fileBytes / 1e6, 1)} MB, ${round((performance.now() - t0) / height)} ms/block`,
        );
      }
    }
    const msPerBlock = (performance.now() - t0) / blocks;
    const lookupMs = (id: Uint8Array, expectFound: boolean) => {
      const rounds = 20;
      const start = performance.now();
      for (let i = 0; i < rounds; i++) {
        if ((chain.getTransaction(id) !== undefined) !== expectFound) throw new Error('tx lookup is wrong');
      }
      return round((performance.now() - start) / rounds, 3);
    };
    const txLookupMs = {
      newest: lookupMs(chain.getBlock(chain.finalizedHeight)!.txIds[0]!, true),
      oldest: lookupMs(chain.getBlock(chain.prunedBelow)!.txIds[0]!, true),
      unknown: lookupMs(crypto.sha256(Uint8Array.of(1, 2, 3)), false),
    };
    const result: RunResult = {
      txLookupMs,
      usage: db.diskUsage(),
      peak,
      height: state.height,
      checkpoint: state.checkpoint,
      root: state.rootAt(state.checkpoint),
      msPerBlock,
    };
    if (!archive) {
      // The state alone: a fresh store loaded from a snapshot of the final checkpoint.
      const fresh = mkdtempSync(join(tmpdir(), 'iosnet-storage-state-'));
      const fdb = openDatabase({ path: fresh, noSync: true });
      try {
        const importer = new SnapshotImporter(
          { db: fdb, crypto, genesis: chainDef.genesis },
          state.checkpoint,
          result.root,
        );
        let cursor: Uint8Array | null = null;
        let bytes = 0;
        do {
          const chunk = exportSnapshotChunk(state, state.checkpoint, cursor);
          for (const e of chunk.entries) bytes += e.id.length + e.record.length + 2;
          importer.add(chunk);
          cursor = chunk.next;
        } while (cursor !== null);
        importer.finish();
        result.snapshotBytes = bytes;
        result.stateUsage = fdb.diskUsage();
      } finally {
        void fdb.close();
        rmSync(fresh, { recursive: true, force: true });
      }
    }
    return result;
  } finally {
    void db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const pruned = runChain(false);
const NONE: DiskUsage = { fileBytes: 0, usedBytes: 0, byNamespace: {} };
const archive: RunResult =
  args.mode === 'pruned'
    ? {
        usage: NONE,
        peak: NONE,
        height: 0,
        checkpoint: 0,
        root: ZERO_HASH,
        msPerBlock: 0,
      }
    : runChain(true);
const mb = (x: number) => round(x / 1e6, 2);
const state = pruned.stateUsage!;
const result = {
  bench: 'storage',
  ...machine(),
  transfers: TRANSFERS,
  accounts: ACCOUNTS,
  blockTxs: BLOCK_TXS,
  stateBlockInterval: INTERVAL,
  height: pruned.height,
  prunedBytes: pruned.usage.usedBytes,
  archiveBytes: archive.usage.usedBytes,
  stateBytes: state.usedBytes,
  prunedToStateRatio: round(pruned.usage.usedBytes / state.usedBytes, 2),
  prunedPeakBytes: pruned.peak.usedBytes,
  prunedPeakToStateRatio: round(pruned.peak.usedBytes / state.usedBytes, 2),
  prunedFileBytes: pruned.usage.fileBytes,
  archiveFileBytes: archive.usage.fileBytes,
  stateFileBytes: state.fileBytes,
  prunedFileToStateFileRatio: round(pruned.usage.fileBytes / state.fileBytes, 2),
  snapshotRecordBytes: pruned.snapshotBytes,
  prunedMBByNamespace: Object.fromEntries(
    Object.entries(pruned.usage.byNamespace)
      .filter(([, v]) => v > 0)
      .map(([k, v]) => [k, mb(v)]),
  ),
  prunedPeakMBByNamespace: Object.fromEntries(
    Object.entries(pruned.peak.byNamespace)
      .filter(([, v]) => v > 0)
      .map(([k, v]) => [k, mb(v)]),
  ),
  stateMBByNamespace: Object.fromEntries(
    Object.entries(state.byNamespace)
      .filter(([, v]) => v > 0)
      .map(([k, v]) => [k, mb(v)]),
  ),
  msPerBlockPruned: round(pruned.msPerBlock),
  msPerBlockArchive: round(archive.msPerBlock),
  txLookupMsPruned: pruned.txLookupMs,
  txLookupMsArchive: archive.txLookupMs,
  measured:
    'bytes = used pages (mdb_stat branch+leaf+overflow) x page size; *FileBytes = data.mdb size (includes free pages)',
  target: 'prunedToStateRatio <= 2',
};
console.log(JSON.stringify(result));
