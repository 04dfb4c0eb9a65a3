/**
 * `npx tsx test/bench/state.bench.ts [--json] [--accounts N] [--blocks N] [--txs N]`: apply + finish +
 * commit of blocks of transfers among existing accounts on LMDB, native crypto, signature checks off.
 * Target: <= 40 ms per block of 1,000 transfers among 100,000 accounts, and a checkpoint block (every
 * 16th) <= 3x that; the figures separate them. Also: the heap the state holds (trees of the three retained
 * heights, the record index and layers), measured after full collections, and the time to reopen the
 * directory (rebuild the trees from LMDB and replay the deltas). The last line is one JSON object.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createNativeCrypto } from '../../gateway/crypto/native.js';
import { openDatabase } from '../../gateway/db/lmdb.js';
import { LmdbChainState } from '../../gateway/state/chain-state.js';
import { benchContext, benchGenesis, prng, transferBlock } from '../unit/gateway/state/bench-fixture.js';
import { log, machine, median, percentile, round } from './harness.js';

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean' },
    accounts: { type: 'string', default: '100000' },
    blocks: { type: 'string', default: '64' },
    txs: { type: 'string', default: '1000' },
    'no-sync': { type: 'boolean' },
  },
});
const ACCOUNTS = Number(args.accounts);
const BLOCKS = Number(args.blocks);
const TXS = Number(args.txs);

// A full collection on demand, to weigh the state's heap (tsx gives no --expose-gc).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
function heapUsed(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

const crypto = createNativeCrypto();
log(`genesis with ${ACCOUNTS} accounts...`);
const chain = benchGenesis(crypto, ACCOUNTS);
const random = prng(42);
// Transactions are made before the timed loop: making them (addresses, ids, encodings) allocates as much as
// executing them, and its garbage collection would be charged to the blocks.
const blocks = Array.from({ length: BLOCKS }, () => transferBlock(crypto, chain, TXS, random));
const dir = mkdtempSync(join(tmpdir(), 'iosnet-state-bench-'));
const db = openDatabase({ path: dir, noSync: args['no-sync'] === true });
const heapBefore = heapUsed();
let t0 = performance.now();
let state: LmdbChainState | undefined = new LmdbChainState({}, { db, crypto, genesis: chain.genesis });
const genesisMs = performance.now() - t0;
log(`genesis state in ${round(genesisMs)} ms`);
const times: number[] = [];
const checkpointTimes: number[] = [];
const phases = { apply: [] as number[], finish: [] as number[], commit: [] as number[] };
const cpu0 = process.cpuUsage();

function runBlocks(state: LmdbChainState): void {
  for (let height = 1; height <= BLOCKS; height++) {
    const { txs, ids } = blocks[height - 1]!;
    const t0 = performance.now();
    const x = state.beginBlock(benchContext(chain, height), { verifySignatures: false });
    for (let i = 0; i < txs.length; i++) x.apply(txs[i]!, ids[i]!);
    const t1 = performance.now();
    x.finish();
    const t2 = performance.now();
    state.commit(x);
    const t3 = performance.now();
    const ms = t3 - t0;
    if (height % state.checkpointInterval === 0) checkpointTimes.push(ms);
    else times.push(ms);
    phases.apply.push(t1 - t0);
    phases.finish.push(t2 - t1);
    phases.commit.push(t3 - t2);
    if (height % 16 === 0)
      log(
        `block ${height}: ${round(ms, 1)} ms (apply ${round(t1 - t0, 1)}, finish ${round(t2 - t1, 1)}, commit ${round(t3 - t2, 1)})`,
      );
  }
}
runBlocks(state);
const cpu = process.cpuUsage(cpu0);
const all = [...times, ...checkpointTimes];
const stateHeap = heapUsed() - heapBefore;
state = undefined;
t0 = performance.now();
const reopened = new LmdbChainState({}, { db, crypto, genesis: chain.genesis });
const restartMs = performance.now() - t0;
const reopenedHeap = heapUsed() - heapBefore;
const result = {
  bench: 'state',
  ...machine(),
  accounts: ACCOUNTS,
  txsPerBlock: TXS,
  blocks: BLOCKS,
  sync: args['no-sync'] !== true,
  blockMsMedian: round(median(times), 1),
  blockMsP90: round(percentile(times, 90), 1),
  checkpointBlockMsMedian: round(median(checkpointTimes), 1),
  blockMsMeanAll: round(all.reduce((a, b) => a + b, 0) / all.length, 1),
  applyMsMedian: round(median(phases.apply), 1),
  finishMsMedian: round(median(phases.finish), 1),
  commitMsMedian: round(median(phases.commit), 1),
  cpuMsPerBlock: round((cpu.user + cpu.system) / 1000 / BLOCKS, 1),
  restartMs: round(restartMs),
  // Blocks replayed on top of the rebuilt previous checkpoint.
  restartReplayedBlocks: reopened.height - (reopened.previousCheckpoint ?? reopened.checkpoint),
  stateHeapMB: round(stateHeap / 1e6, 1),
  heapBytesPerAccount: round(stateHeap / ACCOUNTS),
  reopenedHeapBytesPerAccount: round(reopenedHeap / ACCOUNTS),
  targetBlockMs: 40,
};
await db.close();
rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify(result));
