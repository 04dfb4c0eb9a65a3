/**
 * Beacon cost figures (not a test): npx tsx test/unit/gateway/beacon/measure.ts [n ...]
 * For each n (default 4 16 64), with maxTotalShares = 4n and uneven weights 100..999: dealing size and the
 * time of each step, on this machine, single-threaded. Prints a markdown table (docs/beacon.md §7).
 */
import { createPortableCrypto } from '../../../../core/crypto-portable.js';
import { shareMatchesCommitments } from '../../../../gateway/consensus/beacon/complaint.js';
import { scalarToBytes } from '../../../../gateway/consensus/beacon/curve.js';
import {
  beaconMessage,
  combine,
  combineVerified,
  createDealing,
  decodeDealing,
  memberSecretShares,
  openShares,
  partialSign,
  prepareContext,
  qualify,
  type Share,
  verifyDealingPublic,
  verifyPartial,
} from '../../../../gateway/consensus/beacon/index.js';
import { batchCheck } from '../../../../gateway/consensus/beacon/open.js';
import { createNativeCrypto } from '../../../../gateway/crypto/native.js';
import { deterministicRandomBytes } from '../../../helpers/crypto.js';
import { committee } from './fixtures.js';

const out = (s: string) => process.stdout.write(`${s}\n`);
const native = createNativeCrypto();
const portable = createPortableCrypto(deterministicRandomBytes('measure'));

function time<T>(f: () => T, reps = 1): { ms: number; value: T } {
  let value = f(); // warm-up
  const s = performance.now();
  for (let i = 0; i < reps; i++) value = f();
  return { ms: (performance.now() - s) / reps, value };
}
const f1 = (x: number) => x.toFixed(1);

const ns = process.argv.slice(2).map(Number);
const rows: string[] = [];
for (const n of ns.length ? ns : [4, 16, 64]) {
  const weights = Array.from({ length: n }, (_, i) => 100 + ((i * 7919) % 900));
  const tc = committee(`measure-${n}`, weights);
  const { ctx } = tc;
  const { alloc } = prepareContext(ctx);
  const rng = deterministicRandomBytes(`measure-${n}`);

  const dealings = new Map<number, Uint8Array>();
  const s0 = performance.now();
  for (let d = 0; d < n; d++) dealings.set(d, createDealing(ctx, d, tc.secrets[d]!, rng));
  const createMs = (performance.now() - s0) / n;
  const size = Math.max(...[...dealings.values()].map((b) => b.length));

  const verifyMs = time(() => verifyDealingPublic(ctx, dealings.get(0)!), 3).ms;
  // A typical member (median share count) and the heaviest one.
  const byShares = alloc.counts.map((k, i) => ({ k, i })).sort((a, b) => a.k - b.k);
  const typical = byShares[byShares.length >> 1]!.i;
  const heavy = byShares[byShares.length - 1]!.i;
  const openOne = (i: number) => time(() => openShares(ctx, dealings.get(0)!, i, tc.secrets[i]!), 3).ms;
  const openTypical = openOne(typical);
  const openHeavy = openOne(heavy);

  // Batched vs one-by-one check of k shares of dealing 0 (valid shares of the first members).
  const d0 = decodeDealing(ctx, dealings.get(0)!);
  const pool: Share[] = [];
  for (let i = 0; i < n && pool.length < 16; i++) {
    const o = openShares(ctx, d0, i, tc.secrets[i]!);
    if (o.ok) pool.push(...o.shares);
  }
  const singleMs =
    time(() => {
      for (const s of pool.slice(0, 4)) shareMatchesCommitments(d0.commitments, s.index, s.value);
    }, 2).ms / 4;
  const batch = [2, 4, 8, 16]
    .filter((k) => k <= pool.length)
    .map((k) => {
      const some = pool.slice(0, k);
      const ms = time(
        () =>
          batchCheck(
            d0,
            some,
            some.map((s) => scalarToBytes(s.value)),
          ),
        2,
      ).ms;
      return `${k}: ${f1(ms)}`;
    });

  const q = time(() => qualify(ctx, dealings, []), 1);
  const res = q.value;

  // Final shares of every member (opening all dealings for all members is n^2 openings: only for n <= 16).
  const shares: Share[] = [];
  for (let i = 0; i < n; i++) {
    if (n > 16 && shares.length >= alloc.threshold) break;
    const opened = new Map<number, readonly Share[]>();
    for (const d of res.qualified) {
      const o = openShares(ctx, res.dealings.get(d)!, i, tc.secrets[i]!);
      if (o.ok) opened.set(d, o.shares);
    }
    shares.push(...memberSecretShares(ctx, res.qualified, i, opened));
  }
  const msg = beaconMessage(native, ctx.chainId, ctx.shard, ctx.epoch);
  const signNative = time(() => partialSign(native, shares.slice(0, 1), msg), 5).ms;
  const signPortable = time(() => partialSign(portable, shares.slice(0, 1), msg), 2).ms;
  const partials = partialSign(native, shares.slice(0, alloc.threshold), msg);
  const combineMs = time(() => combine(partials, alloc.threshold), 2).ms;
  const combineVerifiedMs = time(() => combineVerified(native, res.groupCommitments, msg, partials), 2).ms;
  const verifyPartialMs = time(
    () => verifyPartial(native, res.groupCommitments, partials[0]!.index, msg, partials[0]!.signature),
    3,
  ).ms;

  rows.push(
    `| ${n} | ${alloc.total} | ${alloc.threshold} (⌊N/3⌋+1 = ${Math.floor(alloc.total / 3) + 1}, M = ${alloc.maxSubThirdShares}) | ${size} | ${f1(createMs)} | ${f1(verifyMs)} | ` +
      `${f1(openTypical)} (k=${alloc.counts[typical]}) / ${f1(openHeavy)} (k=${alloc.counts[heavy]}) | ` +
      `${f1(singleMs)} per share; batch ${batch.join(', ')} | ${f1(q.ms)} | ${f1(signNative)} / ${f1(signPortable)} | ` +
      `${f1(verifyPartialMs)} | ${f1(combineMs)} | ${f1(combineVerifiedMs)} |`,
  );
  out(rows[rows.length - 1]!);
}
out('');
out(
  "| n | N | t | dealing bytes (max) | createDealing ms | verifyDealingPublic ms | openShares ms (typical / heaviest member) | heaviest member's shares: batched vs one-by-one check ms | qualify ms (n dealings) | partialSign ms per share (blst / noble) | verifyPartial ms (blst) | combine ms (t partials) | combineVerified ms |",
);
out('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) out(r);
