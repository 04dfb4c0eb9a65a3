/**
 * The reference the model-based test (mempool-model.test.ts) runs the mempool against: the admission,
 * eviction, selection and commit policies of gateway/mempool/mempool.ts's header, written naively (arrays,
 * filters, linear scans, a full sort per step) and from the policies, not from the implementation's code.
 * Also the transactions it offers: transfers of three senders, signed once per spec.
 */
import fc from 'fast-check';
import type { MempoolOptions } from '../../../../gateway/mempool/index.js';
import { MAX_CONSECUTIVE_MISFITS } from '../../../../gateway/mempool/select.js';
import { ed25519Key } from '../../../helpers/keys.js';
import { CHAIN_ID, type FakeState, hex, type SignedTx, T0, transfer } from './fixtures.js';

export const SENDERS = ['s0', 's1', 's2'] as const;
const FEES = [0n, 3n, 4n, 10n, 40n];
export const MAX_TTL_MS = 100_000;
/** Short-lived, long-lived, and beyond maxTtlMs until the clock has moved 100 s. */
const EXPIRIES = [T0 + 5_000, T0 + 100_000, T0 + 200_000];
export const MIN_FEE = 1n;
const AMOUNT = 10n;
export const BUMP = 10n;

export interface Candidate {
  readonly bytes: Uint8Array;
  /** undefined for bytes that do not decode. */
  readonly t?: SignedTx;
  readonly size: number;
  readonly badSignature: boolean;
  readonly wrongChain: boolean;
}

export interface CandidateSpec {
  readonly sender: number;
  /** Absolute nonce (resolved from AddCommand's offset to the account's nonce when it runs). */
  readonly nonce: number;
  readonly fee: number;
  readonly memo: number;
  readonly expiry: number;
  readonly flaw: 'none' | 'badSignature' | 'wrongChain' | 'garbage';
}

/** Transactions signed once per spec and remembered by id (selections are checked against them). */
const signed = new Map<string, Candidate>();
export const byId = new Map<string, SignedTx>();
export function candidate(spec: CandidateSpec): Candidate {
  const k = JSON.stringify(spec);
  let c = signed.get(k);
  if (c === undefined) {
    if (spec.flaw === 'garbage') {
      c = { bytes: Uint8Array.of(0x82, 1), size: 2, badSignature: false, wrongChain: false };
    } else {
      const t = transfer({
        sender: SENDERS[spec.sender],
        nonce: spec.nonce,
        fee: FEES[spec.fee],
        memo: spec.memo,
        expiry: EXPIRIES[spec.expiry],
        amount: AMOUNT,
        chainId: spec.flaw === 'wrongChain' ? 'elsewhere' : CHAIN_ID,
        signer: spec.flaw === 'badSignature' ? 'mallory' : undefined,
      });
      c = {
        bytes: t.bytes,
        t,
        size: t.bytes.length,
        badSignature: spec.flaw === 'badSignature',
        wrongChain: spec.flaw === 'wrongChain',
      };
      byId.set(hex(t.id), t);
    }
    signed.set(k, c);
  }
  return c;
}

/** nonce here is an offset from the account's nonce, -1 (already used) .. 4. */
export const candidateArb: fc.Arbitrary<CandidateSpec> = fc.record({
  sender: fc.nat(SENDERS.length - 1),
  nonce: fc.constantFrom(-1, 0, 0, 0, 1, 1, 2, 3, 4),
  fee: fc.constantFrom(0, 1, 1, 2, 2, 3, 3, 4, 4),
  memo: fc.constantFrom(0, 24),
  expiry: fc.constantFrom(0, 0, 1, 1, 1, 1, 1, 1, 2),
  flaw: fc.oneof(
    { weight: 40, arbitrary: fc.constant('none' as const) },
    { weight: 2, arbitrary: fc.constant('badSignature' as const) },
    { weight: 1, arbitrary: fc.constantFrom('wrongChain' as const, 'garbage' as const) },
  ),
});

interface ModelEntry {
  readonly id: string;
  readonly sender: string;
  readonly nonce: number;
  readonly fee: bigint;
  readonly cost: bigint;
  readonly size: number;
  readonly expiry: number;
  readonly rate: number;
  readonly seq: number;
}

const lowerPriority = (a: ModelEntry, b: ModelEntry) =>
  a.rate < b.rate || (a.rate === b.rate && a.seq > b.seq);
const higherPriority = (a: ModelEntry, b: ModelEntry) =>
  a.rate > b.rate || (a.rate === b.rate && a.seq < b.seq);

export class ReferencePool {
  entries: ModelEntry[] = [];
  recent: string[] = [];
  seq = 0;
  constructor(readonly o: MempoolOptions) {}

  get bytes(): number {
    return this.entries.reduce((s, e) => s + e.size, 0);
  }

  /** 'ok' or the refusal's code ('DECODE' for any decode error). */
  add(c: Candidate, state: FakeState, now: number): string {
    const t = c.t;
    if (t === undefined) return 'DECODE';
    const o = this.o;
    const id = hex(t.id);
    const sender = t.sender.label;
    if (c.wrongChain) return 'MEMPOOL_WRONG_CHAIN';
    if (t.expiry <= now) return 'MEMPOOL_EXPIRED';
    if (t.expiry > now + o.maxTtlMs) return 'MEMPOOL_TTL_TOO_LONG';
    if (t.fee < o.minFee) return 'MEMPOOL_FEE_TOO_LOW';
    if (this.entries.some((e) => e.id === id) || this.recent.includes(id)) return 'MEMPOOL_DUPLICATE';
    const account = state.account(t.sender);
    if (t.nonce < account.nonce) return 'MEMPOOL_NONCE_TOO_LOW';
    if (t.nonce >= account.nonce + o.maxPerSender) return 'MEMPOOL_NONCE_TOO_HIGH';
    const mine = this.entries.filter((e) => e.sender === sender);
    const replaced = mine.find((e) => e.nonce === t.nonce);
    if (replaced) {
      const bumped = (replaced.fee * (100n + BUMP) + 99n) / 100n;
      const required = bumped > replaced.fee ? bumped : replaced.fee + 1n;
      if (t.fee < required) return 'MEMPOOL_FEE_TOO_LOW';
    }
    const cost = t.fee + t.amount;
    const queued = mine
      .filter((e) => e.nonce >= account.nonce && e !== replaced)
      .reduce((s, e) => s + e.cost, 0n);
    if (queued + cost > account.balance) return 'MEMPOOL_INSUFFICIENT_FUNDS';
    if (!replaced && mine.length >= o.maxPerSender) return 'MEMPOOL_SENDER_LIMIT';
    const rate = Number(t.fee) / c.size;
    let kept = this.entries.filter((e) => e !== replaced);
    const needCount = kept.length + 1 - o.maxTxs;
    const needBytes = kept.reduce((s, e) => s + e.size, 0) + c.size - o.maxBytes;
    if (needCount > 0 || needBytes > 0) {
      if (c.size > o.maxBytes) return 'MEMPOOL_FULL';
      let freedCount = 0;
      let freedBytes = 0;
      // The replaced entry is not a victim: it is still in `pool` for the tails scan.
      let pool = [...this.entries];
      while (freedCount < needCount || freedBytes < needBytes) {
        const tails = [...new Set(pool.map((e) => e.sender))].map(
          (s) => pool.filter((e) => e.sender === s).sort((a, b) => b.nonce - a.nonce)[0]!,
        );
        let victim: ModelEntry | undefined;
        for (const e of tails) if (victim === undefined || lowerPriority(e, victim)) victim = e;
        if (victim === undefined) return 'MEMPOOL_FULL';
        if (!(rate > victim.rate) || (victim.sender === sender && victim.nonce <= t.nonce))
          return 'MEMPOOL_FULL';
        pool = pool.filter((e) => e !== victim);
        freedCount++;
        freedBytes += victim.size;
      }
      kept = pool.filter((e) => e !== replaced);
    }
    if (c.badSignature) return 'VERIFY_BAD_SIGNATURE';
    kept.push({
      id,
      sender,
      nonce: t.nonce,
      fee: t.fee,
      cost,
      size: c.size,
      expiry: t.expiry,
      rate,
      seq: this.seq++,
    });
    this.entries = kept;
    return 'ok';
  }

  select(limits: { maxTxs: number; maxBytes: number }, state: FakeState, now: number): string[] {
    interface Cursor {
      run: ModelEntry[];
      pos: number;
      budget: bigint;
      active: boolean;
    }
    const cursors: Cursor[] = [];
    for (const s of SENDERS) {
      const account = state.account(ed25519Key(s));
      const run = this.entries.filter((e) => e.sender === s).sort((a, b) => a.nonce - b.nonce);
      const pos = run.findIndex((e) => e.nonce === account.nonce);
      if (pos >= 0) cursors.push({ run, pos, budget: account.balance, active: true });
    }
    const out: string[] = [];
    let bytesLeft = limits.maxBytes;
    let misfits = 0;
    while (out.length < limits.maxTxs && limits.maxBytes > 0) {
      let best: Cursor | undefined;
      for (const c of cursors) {
        if (c.active && (best === undefined || higherPriority(c.run[c.pos]!, best.run[best.pos]!))) best = c;
      }
      if (best === undefined) break;
      const e = best.run[best.pos]!;
      if (e.expiry <= now || e.cost > best.budget) {
        best.active = false;
        continue;
      }
      if (e.size > bytesLeft) {
        best.active = false;
        if (++misfits >= MAX_CONSECUTIVE_MISFITS) break;
        continue;
      }
      out.push(e.id);
      bytesLeft -= e.size;
      misfits = 0;
      best.budget -= e.cost;
      const next = best.run[best.pos + 1];
      if (next !== undefined && next.nonce === e.nonce + 1) best.pos++;
      else best.active = false;
    }
    return out;
  }

  onBlockCommitted(ids: string[], state: FakeState, now: number): void {
    for (const id of ids) {
      if (this.o.recentIncludedIds > 0 && !this.recent.includes(id)) {
        this.recent.push(id);
        if (this.recent.length > this.o.recentIncludedIds) this.recent.shift();
      }
    }
    this.entries = this.entries.filter(
      (e) => !ids.includes(e.id) && e.nonce >= state.account(ed25519Key(e.sender)).nonce && e.expiry > now,
    );
  }
}
