/**
 * Model-based test: random sequences of add / select / block commits / balance changes / clock ticks, run
 * against the mempool and against a naive reference (reference-pool.ts). Every add must give the same
 * verdict, every select the same transactions in the same order, and the count and bytes limits must hold
 * after each step.
 * Selections are also checked on their own: each one must execute against the state in order.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError, IosnetError } from '../../../../core/errors.js';
import { createMempool, type Mempool, type MempoolOptions } from '../../../../gateway/mempool/index.js';
import { ed25519Key } from '../../../helpers/keys.js';
import { CHAIN_ID, FakeState, hex, native, T0 } from './fixtures.js';
import {
  BUMP,
  byId,
  type Candidate,
  type CandidateSpec,
  candidate,
  candidateArb,
  MAX_TTL_MS,
  MIN_FEE,
  ReferencePool,
  SENDERS,
} from './reference-pool.js';

// ------------------------------------------------------------------------------------------- commands

interface World {
  readonly ref: ReferencePool;
  readonly state: FakeState;
  now: number;
  /** Everything offered so far, for ReAddCommand (duplicates, replays of included transactions). */
  readonly offered: Candidate[];
}
interface Real {
  readonly pool: Mempool;
}

function code(e: unknown): string {
  if (e instanceof DecodeError) return 'DECODE';
  if (e instanceof IosnetError) return e.code;
  throw e;
}

function checkLimits(w: World, r: Real): void {
  expect(r.pool.size).toBe(w.ref.entries.length);
  expect(r.pool.bytes).toBe(w.ref.bytes);
  expect(r.pool.size).toBeLessThanOrEqual(w.ref.o.maxTxs);
  expect(r.pool.bytes).toBeLessThanOrEqual(w.ref.o.maxBytes);
}

/** A selection must execute, in order, against the state: nonces, balances, expiry, limits. */
function checkExecutes(
  ids: string[],
  state: FakeState,
  now: number,
  limits: { maxTxs: number; maxBytes: number },
) {
  const accounts = new Map<string, { nonce: number; balance: bigint }>();
  let bytes = 0;
  expect(new Set(ids).size).toBe(ids.length);
  expect(ids.length).toBeLessThanOrEqual(limits.maxTxs);
  for (const id of ids) {
    const t = byId.get(id)!;
    const a = accounts.get(t.sender.label) ?? { ...state.account(t.sender) };
    expect(t.nonce).toBe(a.nonce);
    expect(t.expiry).toBeGreaterThan(now);
    expect(t.fee + t.amount).toBeLessThanOrEqual(a.balance);
    accounts.set(t.sender.label, { nonce: a.nonce + 1, balance: a.balance - t.fee - t.amount });
    bytes += t.bytes.length;
  }
  expect(bytes).toBeLessThanOrEqual(limits.maxBytes);
  return accounts;
}

class AddCommand implements fc.Command<World, Real> {
  constructor(
    readonly spec: CandidateSpec,
    readonly dt: number,
  ) {}
  check = () => true;
  run(w: World, r: Real): void {
    w.now += this.dt;
    const account = w.state.account(ed25519Key(SENDERS[this.spec.sender]!));
    const nonce = Math.max(0, account.nonce + this.spec.nonce);
    offer(w, r, candidate({ ...this.spec, nonce }));
  }
  toString = () => `add(${JSON.stringify(this.spec)}, +${this.dt}ms)`;
}

/** Offers the same bytes again as an earlier add (counted from the most recent). */
class ReAddCommand implements fc.Command<World, Real> {
  constructor(readonly back: number) {}
  check = (w: Readonly<World>) => w.offered.length > 0;
  run(w: World, r: Real): void {
    offer(w, r, w.offered[Math.max(0, w.offered.length - 1 - this.back)]!);
  }
  toString = () => `reAdd(${this.back})`;
}

function offer(w: World, r: Real, c: Candidate): void {
  w.offered.push(c);
  const expected = w.ref.add(c, w.state, w.now);
  let got = 'ok';
  try {
    r.pool.add(c.bytes, w.state, w.now);
  } catch (e) {
    got = code(e);
  }
  expect(got).toBe(expected);
  checkLimits(w, r);
}

class SelectCommand implements fc.Command<World, Real> {
  constructor(
    readonly maxTxs: number,
    readonly maxBytes: number,
  ) {}
  check = () => true;
  run(w: World, r: Real): void {
    const limits = { maxTxs: this.maxTxs, maxBytes: this.maxBytes };
    const got = r.pool.select(limits, w.state, w.now).map((p) => hex(p.id));
    expect(got).toEqual(w.ref.select(limits, w.state, w.now));
    checkExecutes(got, w.state, w.now, limits);
    checkLimits(w, r);
  }
  toString = () => `select(${this.maxTxs}, ${this.maxBytes})`;
}

/** A block with the first `take` selected transactions and maybe one unseen transaction of `foreign`. */
class CommitCommand implements fc.Command<World, Real> {
  constructor(
    readonly take: number,
    readonly foreign: number | undefined,
    readonly dt: number,
  ) {}
  check = () => true;
  run(w: World, r: Real): void {
    const limits = { maxTxs: this.take, maxBytes: 1 << 20 };
    const ids = r.pool.select(limits, w.state, w.now).map((p) => hex(p.id));
    const after = checkExecutes(ids, w.state, w.now, limits);
    for (const [label, a] of after) w.state.set(ed25519Key(label), a);
    const included = ids.map((id) => byId.get(id)!.id);
    if (this.foreign !== undefined) {
      const key = ed25519Key(SENDERS[this.foreign]!);
      w.state.set(key, { nonce: w.state.account(key).nonce + 1 });
      included.push(native.sha256(Uint8Array.of(this.foreign, w.now & 0xff)));
    }
    w.now += this.dt;
    w.ref.onBlockCommitted(included.map(hex), w.state, w.now);
    r.pool.onBlockCommitted(included, w.state, w.now);
    checkLimits(w, r);
  }
  toString = () => `commit(${this.take}, foreign ${this.foreign}, +${this.dt}ms)`;
}

class SetBalanceCommand implements fc.Command<World, Real> {
  constructor(
    readonly sender: number,
    readonly balance: bigint,
  ) {}
  check = () => true;
  run(w: World): void {
    w.state.set(ed25519Key(SENDERS[this.sender]!), { balance: this.balance });
  }
  toString = () => `balance(${SENDERS[this.sender]}, ${this.balance})`;
}

/** The state moves a sender's nonce through a block this pool was not told about (yet): stale entries. */
class UnseenNonceCommand implements fc.Command<World, Real> {
  constructor(readonly sender: number) {}
  check = () => true;
  run(w: World): void {
    const key = ed25519Key(SENDERS[this.sender]!);
    w.state.set(key, { nonce: w.state.account(key).nonce + 1 });
  }
  toString = () => `unseenNonce(${SENDERS[this.sender]})`;
}

const BALANCES = [0n, 30n, 60n, 120n, 10_000n, 10_000n, 10_000n];

const addArb = fc
  .tuple(candidateArb, fc.constantFrom(0, 0, 0, 0, 0, 200, 1_000))
  .map(([spec, dt]) => new AddCommand(spec, dt));
// Adds weigh four times as much as each other command: the pool must fill up for eviction to happen.
const commands = [
  addArb,
  addArb,
  addArb,
  addArb,
  fc
    .tuple(fc.integer({ min: 0, max: 10 }), fc.integer({ min: 0, max: 1_500 }))
    .map(([n, b]) => new SelectCommand(n, b)),
  fc.nat(6).map((k) => new ReAddCommand(k)),
  fc
    .tuple(
      fc.integer({ min: 0, max: 6 }),
      fc.option(fc.nat(SENDERS.length - 1), { nil: undefined }),
      fc.nat(1_500),
    )
    .map(([k, f, dt]) => new CommitCommand(k, f, dt)),
  fc
    .tuple(fc.nat(SENDERS.length - 1), fc.constantFrom(...BALANCES))
    .map(([s, b]) => new SetBalanceCommand(s, b)),
  fc.nat(SENDERS.length - 1).map((s) => new UnseenNonceCommand(s)),
];

const optionsArb = fc.record({
  maxTxs: fc.integer({ min: 1, max: 8 }),
  maxBytes: fc.integer({ min: 150, max: 2_000 }),
  maxPerSender: fc.integer({ min: 1, max: 5 }),
  recentIncludedIds: fc.integer({ min: 0, max: 4 }),
});

describe('mempool against a reference model', () => {
  it('same verdicts, same selections, limits held, selections executable', () => {
    fc.assert(
      fc.property(
        optionsArb,
        fc.array(fc.constantFrom(...BALANCES), { minLength: 3, maxLength: 3 }),
        fc.commands(commands, { maxCommands: 100, size: 'max' }),
        (o, balances, cmds) => {
          const options: MempoolOptions = {
            ...o,
            minFee: MIN_FEE,
            maxTtlMs: MAX_TTL_MS,
            replaceBumpPercent: Number(BUMP),
            // Every sender re-read per block: the reference drops every stale entry at each commit.
            recheckSendersPerBlock: 1_000,
            maxSystemTxs: 16,
            maxSystemPerSender: 4,
          };
          const state = new FakeState();
          for (const [i, s] of SENDERS.entries()) state.set(ed25519Key(s), { balance: balances[i]! });
          fc.modelRun(
            () => ({
              model: { ref: new ReferencePool(options), state, now: T0, offered: [] },
              real: { pool: createMempool(options, { crypto: native, chainId: CHAIN_ID }) },
            }),
            cmds,
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});
