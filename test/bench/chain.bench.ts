/**
 * bench:chain — finalized throughput and confirmation latency of a 4-gateway devnet (separate processes on
 * loopback, TCP peer network, LMDB on disk), under open-loop transfer load signed before the measured window.
 *
 *   npm run bench:chain -- --json [--validators 4] [--offered 6000] [--seconds 12] [--senders 512]
 *                                [--block-interval 100] [--sample-fraction 1] [--tick-ms 50] [--peak-only]
 *
 * Phase 1 (peak): transfers are offered at `--offered` tx/s, spread over the gateways by POST /txs/batch
 * every tick (`--tick-ms`) whatever the gateways answer (open loop); finalizedTxPerSec = transactions in blocks finalized
 * during the window (the counter iosnet_finalized_txs_total of gateway 0) / window length.
 * Phase 2 (latency): the same at half the measured peak; the gateways time each transaction they admitted
 * from submission to grade 1 (in a league member's valid proposal) and grade 2 (final), and report
 * percentiles over the phase (GET /status?latencySince=). `--peak-only` skips phase 2 (e.g. to profile the peak
 * alone with IOSNET_BENCH_CPU_PROF=DIR); its latency fields are then null.
 * verifyCeilingTxPerSec = native Ed25519 verifies/s on one core x cores / validators, measured in this run:
 * the rate if every validator verified every signature and did nothing else.
 * The last line is one JSON object.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { toHex } from '../../core/bytes.js';
import { IosnetError } from '../../core/errors.js';
import { DEFAULT_CHAIN_PARAMS } from '../../core/genesis.js';
import { addressOf } from '../../core/identity.js';
import { IOST_UNIT } from '../../core/token.js';
import { encodeTx, signTx, type TxPayload } from '../../core/tx.js';
import { encodeTxBatch, GatewayClient, type SubmitResult } from '../../gateway/api/client.js';
import { createNativeCrypto } from '../../gateway/crypto/native.js';
import { createDevnetFiles, DEVNET_PARAMS } from '../../gateway/devnet/files.js';
import { type GatewayProcess, spawnGateway, stopGateways } from '../../gateway/devnet/processes.js';
import { readKeyFile } from '../../gateway/keys/keyfile.js';
import { machine, measureRate } from './harness.js';

const crypto = createNativeCrypto();

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) {
    console.error(`bench:chain: --${name} needs a positive number`);
    process.exit(2);
  }
  return v;
}

const VALIDATORS = arg('validators', 4);
const OFFERED = arg('offered', 6000);
const SECONDS = arg('seconds', 12);
const SENDERS = arg('senders', 512);
const BLOCK_INTERVAL_MS = arg('block-interval', 100);
/** consensus.sampleFraction of every gateway (docs/consensus.md §5); 1 = every validator checks every signature. */
const SAMPLE_FRACTION = arg('sample-fraction', 1);
if (SAMPLE_FRACTION > 1) {
  console.error('bench:chain: --sample-fraction must be in (0, 1]');
  process.exit(2);
}
/** Offer period: every tick, one POST /txs/batch per gateway (fewer, larger requests cost the two cores less). */
const TICK_MS = arg('tick-ms', 50);
/** Skipped at the start of each phase: the pipeline fills before the rate is steady. */
const WARMUP_S = 2;

const log = (msg: string) => console.log(`bench:chain: ${msg}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Key {
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly address: Uint8Array;
}

function newKey(): Key {
  const secretKey = crypto.randomBytes(32);
  const publicKey = crypto.ed25519.getPublicKey(secretKey);
  return { secretKey, publicKey, address: addressOf(crypto, publicKey) };
}

function sign(
  chainId: string,
  key: Key,
  nonce: number,
  payload: TxPayload,
): { bytes: Uint8Array; id: string } {
  const { tx, id } = signTx(
    crypto,
    { chainId, sender: key.publicKey, nonce, expiry: Date.now() + 1_800_000, fee: 0n, payload },
    [key.secretKey],
  );
  return { bytes: encodeTx(tx), id: toHex(id) };
}

function verifyCeiling(): { perCore: number; ceiling: number } {
  const key = newKey();
  const msgs = Array.from({ length: 64 }, (_, i) => crypto.sha256(Uint8Array.of(i)));
  const sigs = msgs.map((m) => crypto.ed25519.sign(m, key.secretKey));
  const perCore = measureRate((i) => {
    const k = i & 63;
    if (!crypto.ed25519.verify(sigs[k]!, msgs[k]!, key.publicKey)) throw new Error('verify failed');
  });
  return { perCore, ceiling: (perCore * cpus().length) / VALIDATORS };
}

/** CPU time (user + system, ms) a process has used so far, from /proc (Linux; 0 elsewhere). */
function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 (utime, stime) in clock ticks; the slice starts at field 3.
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
  } catch {
    return 0;
  }
}

/** A counter from the gateway's /metrics (0 when absent). */
async function metric(client: GatewayClient, name: string): Promise<number> {
  let text: string;
  try {
    text = await (await fetch(`${client.base}/metrics`)).text();
  } catch {
    // A keep-alive socket the gateway closed while this process was busy signing: once more, on a new one.
    text = await (await fetch(`${client.base}/metrics`)).text();
  }
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

const finalizedTxs = (client: GatewayClient) => metric(client, 'iosnet_finalized_txs_total');
/** View changes all gateways have made so far (a stalled height costs a timeout and a new proposer). */
const viewChanges = async (clients: readonly GatewayClient[]) =>
  (await Promise.all(clients.map((c) => metric(c, 'iosnet_view_changes_total')))).reduce((a, b) => a + b, 0);

function describe(e: unknown): string {
  return e instanceof Error
    ? `${e.message}${e.cause instanceof Error ? ` (${e.cause.message})` : ''}`
    : String(e);
}

/**
 * The load generator's sender: POST /txs/batch over node:http with a few kept-alive sockets per gateway and
 * bodies encoded before the window. Two cores carry the gateways and this process alike, so the load must cost
 * as little as it can: with fetch (undici) this process spent ~44 µs of CPU per transaction and each gateway ~45 µs
 * more than now (request cloning, web streams, a new connection whenever every open one was busy; measured A/B).
 */
class BatchPoster {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 4 });
  private readonly url: URL;
  constructor(base: string) {
    this.url = new URL('/txs/batch', base);
  }

  post(body: Uint8Array): Promise<SubmitResult[]> {
    return new Promise((resolve, reject) => {
      const unreachable = (e: Error) =>
        reject(new IosnetError('GATEWAY_UNREACHABLE', `cannot reach ${this.url.host} (${e.message})`));
      const req = httpRequest(
        this.url,
        {
          method: 'POST',
          agent: this.agent,
          headers: { 'content-type': 'application/cbor', 'content-length': body.length },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', unreachable);
          res.on('end', () => {
            try {
              const j = JSON.parse(Buffer.concat(chunks).toString('utf8'));
              if (res.statusCode === 200) resolve(j.results);
              else reject(new IosnetError(j.error?.code ?? 'GATEWAY_BAD_RESPONSE', `HTTP ${res.statusCode}`));
            } catch {
              reject(new IosnetError('GATEWAY_BAD_RESPONSE', `HTTP ${res.statusCode}, body not JSON`));
            }
          });
        },
      );
      req.on('error', unreachable);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/**
 * A batch whose connection failed goes again, up to 3 times: a keep-alive socket the gateway closed while
 * idle (between the phases) fails the first request written to it ("socket hang up"), and each of the
 * agent's 4 sockets may be such a one. A resent batch is safe: transactions already admitted come back
 * refused as duplicates.
 */
async function postWithRetry(poster: BatchPoster, body: Uint8Array) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await poster.post(body);
    } catch (e) {
      if (!(e instanceof IosnetError) || e.code !== 'GATEWAY_UNREACHABLE' || attempt >= 3) throw e;
      retried++;
    }
  }
}

/** Batches sent a second time after their connection failed. */
let retried = 0;

/** A tick's load: per gateway, the batch body (undefined: nothing this tick) and its transaction count. */
type Tick = readonly ({ readonly body: Uint8Array; readonly count: number } | undefined)[];

/** Offers `ticks` (one per tick, one batch per gateway) open loop; returns admitted/refused counts. */
async function offer(
  posters: readonly BatchPoster[],
  ticks: readonly Tick[],
): Promise<{ admitted: number; refused: number; failed: number; lateTicks: number }> {
  let admitted = 0;
  let refused = 0;
  let failed = 0;
  let lateTicks = 0;
  const pending: Promise<void>[] = [];
  const t0 = performance.now();
  for (const [k, perGateway] of ticks.entries()) {
    const due = t0 + k * TICK_MS;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    else if (wait < -TICK_MS) lateTicks++;
    for (const [g, batch] of perGateway.entries()) {
      if (batch === undefined) continue;
      pending.push(
        // A batch whose connection failed (e.g. ECONNRESET: a keep-alive socket the gateway closed while it
        // was busy) is sent again (postWithRetry), as a client would: a lost batch leaves nonce gaps that strand the rest
        // of its senders' transactions and would turn the run into a measurement of the gaps.
        postWithRetry(posters[g]!, batch.body).then(
          (results) => {
            for (const r of results) {
              // A duplicate only on a batch sent twice: the first attempt got it in before the reset.
              if ('error' in r && r.error.code !== 'MEMPOOL_DUPLICATE') refused++;
              else admitted++;
            }
          },
          (e: unknown) => {
            if (failed === 0) log(`a batch failed: ${describe(e)}`);
            failed += batch.count;
          },
        ),
      );
    }
  }
  await Promise.all(pending);
  return { admitted, refused, failed, lateTicks };
}

/** Pre-signs `rate` x `seconds` transfers from the senders (pinned to gateways), grouped by tick. */
function presign(
  chainId: string,
  senders: readonly Key[],
  nonces: number[],
  rate: number,
  seconds: number,
  gateways: number,
): Tick[] {
  const ticks = Math.ceil((seconds * 1000) / TICK_MS);
  const perTick = (rate * TICK_MS) / 1000;
  const out: Tick[] = [];
  let carry = 0;
  let s = 0;
  for (let k = 0; k < ticks; k++) {
    carry += perTick;
    const n = Math.floor(carry);
    carry -= n;
    const perGateway: Uint8Array[][] = Array.from({ length: gateways }, () => []);
    for (let j = 0; j < n; j++) {
      const i = s++ % senders.length;
      const to = senders[(i + 1) % senders.length]!.address;
      const tx = sign(chainId, senders[i]!, nonces[i]!++, {
        kind: 'transfer',
        to,
        amount: 1n,
        memo: new Uint8Array(),
      });
      perGateway[i % gateways]!.push(tx.bytes);
    }
    out.push(
      perGateway.map((txs) => (txs.length ? { body: encodeTxBatch(txs), count: txs.length } : undefined)),
    );
  }
  return out;
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const { perCore, ceiling } = verifyCeiling();
  log(`native Ed25519 verify ${Math.round(perCore)}/s per core -> ceiling ${Math.round(ceiling)} tx/s`);

  const dir = mkdtempSync(join(tmpdir(), 'iosnet-bench-chain-'));
  const procs: GatewayProcess[] = [];
  const posters: BatchPoster[] = [];
  const stop = async () => {
    for (const p of posters) p.close();
    await stopGateways(procs, 10_000);
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => {
    void stop().then(() => process.exit(130));
  });
  try {
    const files = await createDevnetFiles(crypto, dir, {
      validators: VALIDATORS,
      // The chain's default epoch and state-block cadence (256 and 16 heights), not the devnet's demo-speed
      // ones (64 and 8, so that `npm start` shows a committee change within a minute): each epoch runs a DKG.
      params: {
        ...DEVNET_PARAMS,
        epochLength: DEFAULT_CHAIN_PARAMS.epochLength,
        stateBlockInterval: DEFAULT_CHAIN_PARAMS.stateBlockInterval,
        maxBlockTxs: DEFAULT_CHAIN_PARAMS.maxBlockTxs,
      },
      consensus: { blockIntervalMs: BLOCK_INTERVAL_MS, sampleFraction: SAMPLE_FRACTION },
    });
    // IOSNET_BENCH_CPU_PROF=DIR: every gateway writes a V8 CPU profile there when it stops (the profile behind
    // the closing note's "what limits it").
    const profDir = process.env.IOSNET_BENCH_CPU_PROF;
    // IOSNET_BENCH_NODE_ARGS: more flags for the gateways' node (e.g. V8 heap sizes), space-separated.
    const nodeArgs = [
      ...(profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []),
      ...(process.env.IOSNET_BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a.length > 0),
    ];
    for (const node of files.nodes) procs.push(spawnGateway(node, dir, () => {}, [], {}, nodeArgs));
    const clients = files.nodes.map(
      (n) => new GatewayClient(`http://127.0.0.1:${n.apiPort}`, { timeoutMs: 60_000 }),
    );
    posters.push(...clients.map((c) => new BatchPoster(c.base)));
    const chainId = files.genesis.chainId;
    // Ready: every gateway answers and the chain finalizes.
    const readyBy = Date.now() + 120_000;
    for (const c of clients) {
      for (;;) {
        try {
          if ((await c.status()).finalizedHeight >= 2) break;
        } catch {}
        if (Date.now() > readyBy) throw new Error('the gateways did not start finalizing within 120 s');
        if (procs.some((p) => p.exit)) throw new Error('a gateway exited during startup');
        await sleep(200);
      }
    }
    log(`${VALIDATORS} gateways up`);

    // Funding, in chunks the funder's mempool nonce window admits.
    const funderFile = readKeyFile(files.bucketKeys.privateSale, crypto).key;
    const funder: Key = {
      secretKey: funderFile.ed25519.secretKey,
      publicKey: funderFile.ed25519.publicKey,
      address: funderFile.address,
    };
    const senders = Array.from({ length: SENDERS }, newKey);
    let funderNonce = (await clients[0]!.account(funder.address)).nonce;
    for (let i = 0; i < senders.length; i += 200) {
      const chunk = senders.slice(i, i + 200).map((s) =>
        sign(chainId, funder, funderNonce++, {
          kind: 'transfer',
          to: s.address,
          amount: 1_000_000n * IOST_UNIT,
          memo: new Uint8Array(),
        }),
      );
      const results = await clients[0]!.submitBatch(chunk.map((t) => t.bytes));
      const bad = results.find((r) => 'error' in r);
      if (bad && 'error' in bad) throw new Error(`funding refused: ${bad.error.code} ${bad.error.message}`);
      const last = chunk.at(-1)!.id;
      while ((await clients[0]!.tx(last)).status !== 'grade2') await sleep(100);
    }
    log(`${senders.length} senders funded`);
    const nonces = senders.map(() => 0);

    // Phase 1: peak.
    log(`signing ${OFFERED * SECONDS} transfers for the peak phase`);
    const peakBatches = presign(chainId, senders, nonces, OFFERED, SECONDS, clients.length);
    // Throughput: the load's transactions finalized from the first send until every mempool is empty again
    // (or 120 s), over that time. When the offered rate is above capacity this is the capacity.
    const before = await finalizedTxs(clients[0]!);
    const heightBefore = (await clients[0]!.status()).finalizedHeight;
    const viewChangesBefore = await viewChanges(clients);
    const cpuBefore = procs.map((p) => cpuMsOf(p.pid));
    const benchCpuBefore = process.cpuUsage();
    const t0 = performance.now();
    const peakStartUs = process.hrtime.bigint() / 1000n;
    const peakOffer = await offer(posters, peakBatches);
    const sendSeconds = (performance.now() - t0) / 1000;
    let drained = false;
    let finalizedInPeak = 0;
    while (performance.now() - t0 < 120_000) {
      finalizedInPeak = (await finalizedTxs(clients[0]!)) - before;
      if (finalizedInPeak >= peakOffer.admitted) {
        drained = true;
        break;
      }
      await sleep(50);
    }
    const peakSeconds = (performance.now() - t0) / 1000;
    // The peak's bounds on the monotonic clock V8's CPU profiles time their samples with (µs), to cut them out.
    if (profDir) log(`peak window (monotonic µs): ${peakStartUs}..${process.hrtime.bigint() / 1000n}`);
    const peakHeights = (await clients[0]!.status()).finalizedHeight - heightBefore;
    const peakViewChanges = (await viewChanges(clients)) - viewChangesBefore;
    const finalizedTxPerSec = finalizedInPeak / peakSeconds;
    // Where the machine's CPU went in the peak phase, per finalized transaction (all threads of each process).
    const gatewayCpuUsPerTx = procs.map((p, i) =>
      Math.round(((cpuMsOf(p.pid) - cpuBefore[i]!) * 1000) / Math.max(1, finalizedInPeak)),
    );
    const benchCpu = process.cpuUsage(benchCpuBefore);
    const loadCpuUsPerTx = Math.round((benchCpu.user + benchCpu.system) / Math.max(1, finalizedInPeak));
    log(
      `CPU per finalized tx: gateways ${gatewayCpuUsPerTx.join(', ')} µs; load generator ${loadCpuUsPerTx} µs; ` +
        `${peakHeights} heights (${(peakHeights / peakSeconds).toFixed(1)}/s, ${Math.round(finalizedInPeak / Math.max(1, peakHeights))} tx per block), ` +
        `${peakViewChanges} view changes (all gateways)`,
    );
    log(
      `peak: offered ${OFFERED}/s for ${SECONDS} s; sent in ${sendSeconds.toFixed(1)} s (${peakOffer.lateTicks} late ticks), ` +
        `admitted ${peakOffer.admitted}, refused ${peakOffer.refused}, failed ${peakOffer.failed} (${retried} batches retried); ` +
        `${finalizedInPeak} finalized in ${peakSeconds.toFixed(1)} s${drained ? '' : ' (not all final after 120 s)'} = ${Math.round(finalizedTxPerSec)} tx/s`,
    );
    // Resynchronize nonces: refused transactions left gaps.
    for (const [i, s] of senders.entries())
      nonces[i] = (await clients[i % clients.length]!.account(s.address)).nonce;

    // Phase 2: latency at half the measured peak.
    const halfRate = Math.max(10, Math.floor(finalizedTxPerSec / 2));
    const peakOnly = process.argv.includes('--peak-only');
    const latencyBatches = peakOnly
      ? []
      : presign(chainId, senders, nonces, halfRate, SECONDS, clients.length);
    const since = Date.now();
    const latOffer = await offer(posters, latencyBatches);
    if (!peakOnly) await sleep(3000);
    const grade1: number[] = [];
    const grade2p50: number[] = [];
    const grade2p99: number[] = [];
    let samples = 0;
    for (const c of clients) {
      const st = await c.status({ latencySince: since + WARMUP_S * 1000 });
      if (st.latencyMs.grade1.p50 !== null) grade1.push(st.latencyMs.grade1.p50);
      if (st.latencyMs.grade2.p50 !== null) grade2p50.push(st.latencyMs.grade2.p50);
      if (st.latencyMs.grade2.p99 !== null) grade2p99.push(st.latencyMs.grade2.p99);
      samples += st.latencyMs.grade2.samples;
    }
    const med = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[xs.length >> 1]! : null);
    log(
      `latency at ${halfRate}/s: admitted ${latOffer.admitted}, refused ${latOffer.refused}; ${samples} timed transactions`,
    );
    const finalHeight = (await clients[0]!.status()).finalizedHeight;
    const intact = (await Promise.all(clients.map((c) => c.supply()))).every((s) => s.intact);
    const result = {
      bench: 'chain',
      validators: VALIDATORS,
      offeredTxPerSec: OFFERED,
      admittedTxPerSec: Math.round(peakOffer.admitted / sendSeconds),
      finalizedTxPerSec: Math.round(finalizedTxPerSec),
      verifyCeilingTxPerSec: Math.round(ceiling),
      ratioToCeiling: Math.round((finalizedTxPerSec / ceiling) * 1000) / 1000,
      gatewayCpuUsPerTx,
      loadCpuUsPerTx,
      peakHeightsPerSec: Math.round((peakHeights / peakSeconds) * 10) / 10,
      peakViewChanges,
      peakTxPerBlock: Math.round(finalizedInPeak / Math.max(1, peakHeights)),
      latencyPhaseTxPerSec: halfRate,
      grade1P50Ms: med(grade1),
      grade2P50Ms: med(grade2p50),
      // The worst gateway's p99: a client may have submitted to any of them.
      grade2P99Ms: grade2p99.length ? Math.max(...grade2p99) : null,
      blockIntervalMs: BLOCK_INTERVAL_MS,
      epochLength: DEFAULT_CHAIN_PARAMS.epochLength,
      stateBlockInterval: DEFAULT_CHAIN_PARAMS.stateBlockInterval,
      sampleFraction: SAMPLE_FRACTION,
      finalizedHeight: finalHeight,
      supplyIntact: intact,
      ...machine(),
    };
    console.log(json ? JSON.stringify(result) : JSON.stringify(result, null, 2));
  } catch (e) {
    // What the gateways said last, before their directory goes.
    for (const p of procs) {
      const tail = readFileSync(p.logPath, 'utf8').split('\n').slice(-4).join('\n');
      console.error(`--- ${p.name} (exit ${JSON.stringify(p.exit)})\n${tail}`);
    }
    throw e;
  } finally {
    await stop();
  }
}

main().catch((e) => {
  const cause = e instanceof Error && e.cause instanceof Error ? ` (${e.cause.message})` : '';
  console.error(`bench:chain: ${e instanceof Error ? e.message : String(e)}${cause}`);
  if (process.env.IOSNET_BENCH_DEBUG === '1') console.error(e);
  process.exit(1);
});
