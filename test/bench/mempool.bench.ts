/**
 * `npm run bench:mempool [-- --json]`: the mempool's hot paths. Last line: one JSON object.
 * Target (issue brief): select 5,000 of 50,000 in a few ms.
 *
 * add is measured with native Ed25519 verification and with a crypto whose verify always says yes (the same
 * native sha256), which leaves the mempool's own work: decode, id hash, address, checks, bookkeeping.
 * Two pool shapes: 50,000 senders with one transaction each (every verify misses the native backend's
 * 4,096-key KeyObject cache) and 500 senders with 100 each (hits). Only the transactions added with
 * verification are really signed (signing 100,000 would dominate the run).
 * `sort50kObjectsMs` (sorting 50,000 small objects with a two-key comparator) is a yardstick for the
 * machine: on a shared, loaded box every figure moves, their ratios to it much less.
 */
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MAX_BLOCK_BYTES, MAX_BLOCK_TXS } from '../../core/block.js';
import type { Crypto } from '../../core/crypto.js';
import { addressOf } from '../../core/identity.js';
import { type AccountState, EMPTY_ACCOUNT } from '../../core/state.js';
import { encodeTx, signTx } from '../../core/tx.js';
import { createNativeCrypto } from '../../gateway/crypto/native.js';
import { createMempool, type Mempool } from '../../gateway/mempool/index.js';
import type { StateReader } from '../../gateway/state/interface.js';
import { log, machine, median, round } from './harness.js';

const { values: args } = parseArgs({ options: { json: { type: 'boolean' } } });

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const native = createNativeCrypto();
/** Native hashing, no signature check: the mempool's own overhead. */
const noVerify: Crypto = { ...native, ed25519: { ...native.ed25519, verify: () => true } };

const CHAIN_ID = 'iosnet-bench';
const NOW = 1_900_000_000_000;
const POOL = 50_000;
const ADD_N = 10_000;

const keyOf = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

/** Accounts in a Map: a lower bound on what a real StateReader costs per read. */
class MapState implements StateReader {
  readonly height = 1;
  readonly accounts = new Map<string, AccountState>();
  reads = 0;
  getAccount(address: Uint8Array): AccountState {
    this.reads++;
    return this.accounts.get(keyOf(address)) ?? EMPTY_ACCOUNT;
  }
  getValidator = () => undefined;
  listValidators = () => [];
  getDevice = () => undefined;
  getService = () => undefined;
  getFile = () => undefined;
  getRecord = () => undefined;
}

const FAKE_SIGNATURE = new Uint8Array(64);
const BOB = native.sha256(Uint8Array.of(0xb0));

/** `count` transfers from up to `senders` senders, nonces in order per sender; really signed if `signed`. */
function makeShape(
  senders: number,
  perSender: number,
  count: number,
  state: MapState,
  signed: boolean,
): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let s = 0; s < senders && out.length < count; s++) {
    const seed = Uint8Array.of(senders >> 16, senders >> 8, senders, s >> 16, s >> 8, s, perSender);
    const sk = native.sha256(seed);
    const pk = signed ? native.ed25519.getPublicKey(sk) : native.sha256(sk);
    state.accounts.set(keyOf(addressOf(native, pk)), { ...EMPTY_ACCOUNT, balance: 10n ** 15n });
    for (let n = 0; n < perSender && out.length < count; n++) {
      const i = s * perSender + n;
      const body = {
        chainId: CHAIN_ID,
        sender: pk,
        nonce: n,
        expiry: NOW + 1_800_000,
        // Spread fees so the heaps do real work; later nonces of a sender do not pay more.
        fee: 1_000n + BigInt((i * 7_919) % 100_000),
        payload: { kind: 'transfer' as const, to: BOB, amount: 1_000n, memo: new Uint8Array(i % 17) },
      };
      out.push(encodeTx(signed ? signTx(native, body, [sk]).tx : { body, signatures: [FAKE_SIGNATURE] }));
    }
  }
  return out;
}

const newPool = (crypto: Crypto): Mempool => createMempool({ maxTxs: POOL }, { crypto, chainId: CHAIN_ID });

/** Median admissions per second over `rounds` fresh pools, adding `txs` in order. */
function addRate(crypto: Crypto, txs: Uint8Array[], state: StateReader, rounds = 3): number {
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const pool = newPool(crypto);
    const t0 = performance.now();
    for (const b of txs) pool.add(b, state, NOW);
    rates.push((txs.length * 1000) / (performance.now() - t0));
  }
  return median(rates);
}

function filled(txs: Uint8Array[], state: StateReader): Mempool {
  const pool = newPool(noVerify);
  for (const b of txs) pool.add(b, state, NOW);
  return pool;
}

function timeMs(fn: () => void, runs = 7): number {
  fn();
  const t: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  return median(t);
}

/** Adds each of `txs` once to `pool`, counting refusals; returns adds per second. */
function offerAll(pool: Mempool, txs: Uint8Array[], state: StateReader): { perSec: number; refused: number } {
  let refused = 0;
  const t0 = performance.now();
  for (const b of txs) {
    try {
      pool.add(b, state, NOW);
    } catch {
      refused++;
    }
  }
  return { perSec: (txs.length * 1000) / (performance.now() - t0), refused };
}

const yardstick = Array.from({ length: POOL }, (_, i) => ({ rate: ((i * 7_919) % 100_003) / 7, seq: i }));
const sort50kObjectsMs = timeMs(() => yardstick.slice().sort((a, b) => b.rate - a.rate || a.seq - b.seq));

log(`signing 2 x ${ADD_N} transactions...`);
const stateA = new MapState();
const stateB = new MapState();
const signedMany = makeShape(POOL, 1, ADD_N, stateA, true);
const signedFew = makeShape(500, 100, ADD_N, stateB, true);
const manySenders = makeShape(POOL, 1, POOL, stateA, false);
const fewSenders = makeShape(500, 100, POOL, stateB, false);
const avgTxBytes = manySenders.reduce((s, b) => s + b.length, 0) / manySenders.length;

log('add...');
const addNativeManySendersPerSec = addRate(native, signedMany, stateA);
const addNativeFewSendersPerSec = addRate(native, signedFew, stateB);
const addNoVerifyManySendersPerSec = addRate(noVerify, manySenders, stateA);
const addNoVerifyFewSendersPerSec = addRate(noVerify, fewSenders, stateB);

log('refusals and eviction...');
const poolA = filled(manySenders, stateA);
// Gossip delivers every transaction from several peers: the duplicate refusal's cost.
const duplicates = offerAll(poolA, manySenders.slice(0, ADD_N), stateA);
if (duplicates.refused !== ADD_N) throw new Error('expected every duplicate to be refused');
// A full pool, newcomers from new senders with the same fee spread: those paying more than the cheapest
// tail evict it, the others are refused (MEMPOOL_FULL) by the eviction plan, before their signature.
const newcomerState = new MapState();
const newcomers = makeShape(5_000, 1, 5_000, newcomerState, false);
for (const [k, v] of newcomerState.accounts) stateA.accounts.set(k, v);
const fullPool = offerAll(filled(manySenders, stateA), newcomers, stateA);

log('select...');
const poolB = filled(fewSenders, stateB);
const block = { maxTxs: 5_000, maxBytes: MAX_BLOCK_BYTES };
const select5kOf50kManySendersMs = timeMs(() => poolA.select(block, stateA, NOW));
const select5kOf50kFewSendersMs = timeMs(() => poolB.select(block, stateB, NOW));
const fullBlock = { maxTxs: MAX_BLOCK_TXS, maxBytes: MAX_BLOCK_BYTES };
const select20kOf50kManySendersMs = timeMs(() => poolA.select(fullBlock, stateA, NOW));
stateA.reads = 0;
const selected5k = poolA.select(block, stateA, NOW).length;
const select5kStateReads = stateA.reads;
// The same walk without the state's cost: a StateReader that answers from one object.
const rich: AccountState = { ...EMPTY_ACCOUNT, balance: 10n ** 15n };
const freeState: StateReader = { ...new MapState(), getAccount: () => rich };
const select5kOf50kNoStateMs = timeMs(() => poolA.select(block, freeState, NOW));

log('onBlockCommitted...');
// 5,000 included (each sender's only entry), 1,024 other senders re-read, the expiry index consulted.
const commit5kOf50kMs = median(
  [0, 1, 2, 3, 4].map(() => {
    const pool = filled(manySenders, stateA);
    const ids = pool.select(block, stateA, NOW).map((p) => p.id);
    const t0 = performance.now();
    pool.onBlockCommitted(ids, stateA, NOW);
    const ms = performance.now() - t0;
    if (pool.size !== POOL - ids.length) throw new Error('commit did not drop the included transactions');
    return ms;
  }),
);

log('memory...');
gc();
const heapBefore = process.memoryUsage().heapUsed;
const held = filled(manySenders, stateA);
gc();
const heapPerTxBytes = (process.memoryUsage().heapUsed - heapBefore) / held.size;

const report = {
  ...machine(),
  sort50kObjectsMs: round(sort50kObjectsMs, 2),
  poolTxs: POOL,
  avgTxBytes: round(avgTxBytes),
  addNativeManySendersPerSec: round(addNativeManySendersPerSec),
  addNativeFewSendersPerSec: round(addNativeFewSendersPerSec),
  addNoVerifyManySendersPerSec: round(addNoVerifyManySendersPerSec),
  addNoVerifyFewSendersPerSec: round(addNoVerifyFewSendersPerSec),
  duplicateRefusalPerSec: round(duplicates.perSec),
  fullPoolAddNoVerifyPerSec: round(fullPool.perSec),
  fullPoolNewcomersRefused: fullPool.refused,
  select5kOf50kManySendersMs: round(select5kOf50kManySendersMs, 2),
  select5kOf50kFewSendersMs: round(select5kOf50kFewSendersMs, 2),
  select5kOf50kNoStateMs: round(select5kOf50kNoStateMs, 2),
  select20kOf50kManySendersMs: round(select20kOf50kManySendersMs, 2),
  select5kStateReads,
  selected5k,
  commit5kOf50kMs: round(commit5kOf50kMs, 2),
  heapPerTxBytes: round(heapPerTxBytes),
};
if (!args.json) {
  for (const [k, v] of Object.entries(report)) log(`${k.padEnd(32)} ${v}`);
}
console.log(JSON.stringify(report));
