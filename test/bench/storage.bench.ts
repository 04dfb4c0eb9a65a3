/**
 * `npm run bench:storage -- [--json] [--transfers N] [--accounts N]`: disk used by a node after N transfers
 * (default 1,000,000) among 100,000 accounts in blocks of 1,000, state blocks every 16 blocks, with the
 * block store and the state in one LMDB environment: once pruned, once archive (fresh directories under
 * os.tmpdir(), deleted afterwards). stateBytes is a fresh store loaded from a snapshot of the final
 * checkpoint. Target: pruned <= 2x state.
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

interface RunResult {
  usage: DiskUsage;
  height: number;
  checkpoint: number;
  root: Uint8Array;
  snapshotBytes?: number;
  stateUsage?: DiskUsage;
  msPerBlock: number;
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
    const blocks = Math.ceil(TRANSFERS / BLOCK_TXS);
    const t0 = performance.now();
    for (let height = 1; height <= blocks; height++) {
      const { txs, ids } = transferBlock(
        crypto,
        chainDef,
        Math.min(BLOCK_TXS, TRANSFERS - (height - 1) * BLOCK_TXS),
        random,
      );
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
      if (height % 100 === 0) {
        const u = db.diskUsage();
        log(
          `${archive ? 'archive' : 'pruned'} block ${height}/${blocks}: used ${round(u.usedBytes / 1e6, 1)} MB, file ${round(u.fileBytes / 1e6, 1)} MB, ${round((performance.now() - t0) / height)} ms/block`,
        );
      }
    }
    const msPerBlock = (performance.now() - t0) / blocks;
    const result: RunResult = {
      usage: db.diskUsage(),
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
const archive = runChain(true);
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
  stateMBByNamespace: Object.fromEntries(
    Object.entries(state.byNamespace)
      .filter(([, v]) => v > 0)
      .map(([k, v]) => [k, mb(v)]),
  ),
  msPerBlockPruned: round(pruned.msPerBlock),
  msPerBlockArchive: round(archive.msPerBlock),
  measured:
    'bytes = used pages (mdb_stat branch+leaf+overflow) x page size; *FileBytes = data.mdb size (includes free pages)',
  target: 'prunedToStateRatio <= 2',
};
console.log(JSON.stringify(result));
