/**
 * The beacon's records in the shard state and its part of block execution (docs/consensus.md §3):
 * deterministic, so every node derives the same group key and seed.
 *
 * Records (namespace `dkg`, id = u64be(epoch) || suffix), for the committee of `epoch`:
 *   || u16be(dealer) || 0x00       the dealer's Dealing bytes (docs/beacon.md §2)
 *   || 0xfe                        [1, [[dealer, complainer, complaint bytes], ...]]   complaints, in order
 *   || 0xff                        [1, threshold, groupCommitments (t·48 bytes), [qualified dealers]]
 * Windows within the epoch before the committee's (position p = (height − 1) mod L): dealings while
 * p < L/2, complaints while L/2 <= p < 3L/4; qualification at the epoch's last block.
 */
import { equalBytes, toHex } from '../../core/bytes.js';
import { CborReader, CborWriter } from '../../core/cbor.js';
import type { PreparedCommittee } from '../../core/committee.js';
import type { Crypto } from '../../core/crypto.js';
import { IosnetError, invalidValue } from '../../core/errors.js';
import type { Transaction } from '../../core/tx.js';
import { type BlockContext, type StateReader, type StateWriter, TxError } from '../state/interface.js';
import {
  type BeaconContext,
  beaconMessage,
  beaconSeed,
  decodeComplaint,
  qualify,
  verifyComplaint,
  verifyDealingPublic,
} from './beacon/index.js';
import type { BeaconDriver } from './beacon-driver.js';
import { readSeed, writeBeaconRecord } from './epoch-records.js';
import { epochKey } from './epochs.js';

export interface DkgResult {
  readonly threshold: number;
  readonly groupCommitments: Uint8Array;
  readonly qualified: readonly number[];
}

function dealingKey(epoch: number, dealer: number): Uint8Array {
  const k = new Uint8Array(11);
  k.set(epochKey(epoch));
  new DataView(k.buffer).setUint16(8, dealer);
  return k;
}

function suffixKey(epoch: number, suffix: number): Uint8Array {
  const k = new Uint8Array(9);
  k.set(epochKey(epoch));
  k[8] = suffix;
  return k;
}

export function readDealing(state: StateReader, epoch: number, dealer: number): Uint8Array | undefined {
  return state.getRecord('dkg', dealingKey(epoch, dealer));
}

export interface StoredComplaint {
  readonly dealer: number;
  readonly complainer: number;
  readonly bytes: Uint8Array;
}

export function readComplaints(state: StateReader, epoch: number): StoredComplaint[] {
  const bytes = state.getRecord('dkg', suffixKey(epoch, 0xfe));
  if (!bytes) return [];
  const r = new CborReader(bytes);
  r.array('complaints', 2);
  r.uint('complaints.version', 1);
  const n = r.array('complaints.list', { max: 1 << 16 });
  const out: StoredComplaint[] = [];
  for (let i = 0; i < n; i++) {
    r.array('complaint', 3);
    out.push({
      dealer: r.uint('dealer', 0xffff),
      complainer: r.uint('complainer', 0xffff),
      bytes: r.bytesField('bytes'),
    });
  }
  return out;
}

function writeComplaints(state: StateWriter, epoch: number, list: readonly StoredComplaint[]): void {
  const w = new CborWriter(256).array(2).uint(1).array(list.length);
  for (const c of list) w.array(3).uint(c.dealer).uint(c.complainer).bytes(c.bytes);
  state.putRecord('dkg', suffixKey(epoch, 0xfe), w.finish());
}

export function readDkgResult(state: StateReader, epoch: number): DkgResult | undefined {
  const bytes = state.getRecord('dkg', suffixKey(epoch, 0xff));
  if (!bytes) return undefined;
  const r = new CborReader(bytes);
  r.array('dkgResult', 4);
  if (r.uint('dkgResult.version') !== 1) invalidValue('dkgResult.version', 'unknown version');
  const threshold = r.uint('dkgResult.threshold', 1 << 16);
  const groupCommitments = r.bytesField('dkgResult.groupCommitments', threshold * 48);
  const n = r.array('dkgResult.qualified', { max: 1024 });
  const qualified: number[] = [];
  for (let i = 0; i < n; i++) qualified.push(r.uint('qualified', 0xffff));
  r.end('dkgResult');
  return { threshold, groupCommitments, qualified };
}

function writeDkgResult(state: StateWriter, epoch: number, res: DkgResult): void {
  const w = new CborWriter(64 + res.groupCommitments.length)
    .array(4)
    .uint(1)
    .uint(res.threshold)
    .bytes(res.groupCommitments);
  w.array(res.qualified.length);
  for (const q of res.qualified) w.uint(q);
  state.putRecord('dkg', suffixKey(epoch, 0xff), w.finish());
}

/** The DKG context of a committee: members' node keys (from their validator records) and weights. */
export function beaconContext(state: StateReader, committee: PreparedCommittee): BeaconContext {
  const byBls = new Map(state.listValidators().map((v) => [toHex(v.blsPublicKey), v.nodePublicKey]));
  const c = committee.committee;
  return {
    chainId: c.chainId,
    shard: c.shard,
    epoch: c.epoch,
    members: c.members.map((m) => {
      const nodePublicKey = byBls.get(toHex(m.blsPublicKey));
      if (!nodePublicKey) throw new Error(`committee member without a validator record (epoch ${c.epoch})`);
      return { nodePublicKey, weight: m.weight };
    }),
  };
}

export function memberIndexOfNode(ctx: BeaconContext, nodePublicKey: Uint8Array): number {
  return ctx.members.findIndex((m) => equalBytes(m.nodePublicKey, nodePublicKey));
}

/** Position within the epoch (0-based) of a height. */
export function epochPosition(height: number, epochLength: number): number {
  return (height - 1) % epochLength;
}

function refuse(code: 'TX_INVALID' | 'TX_FORBIDDEN' | 'TX_DUPLICATE', message: string): never {
  throw new TxError(code, message, {});
}

export class BeaconState implements BeaconDriver {
  constructor(private readonly crypto: Crypto) {}

  applyTx(
    ctx: BlockContext,
    tx: Transaction,
    state: StateWriter,
    committeeOf: (epoch: number) => PreparedCommittee,
  ): void {
    const p = tx.body.payload;
    const L = ctx.params.epochLength;
    const pos = epochPosition(ctx.height, L);
    try {
      if (p.kind === 'beacon') {
        if (p.epoch !== ctx.epoch) refuse('TX_INVALID', `beacon for epoch ${p.epoch} in epoch ${ctx.epoch}`);
        if (readSeed(state, p.epoch)) refuse('TX_DUPLICATE', `epoch ${p.epoch} already has its seed`);
        const result = readDkgResult(state, p.epoch);
        if (!result) refuse('TX_FORBIDDEN', `epoch ${p.epoch} has no group key (its DKG failed)`);
        const groupKey = this.crypto.bls.parsePublicKey(result.groupCommitments.subarray(0, 48));
        const message = beaconMessage(this.crypto, ctx.chainId, ctx.shard, p.epoch);
        if (!groupKey || !this.crypto.bls.verify(p.signature, message, groupKey))
          refuse('TX_INVALID', 'beacon signature does not verify');
        writeBeaconRecord(state, p.epoch, {
          groupSignature: p.signature,
          seed: beaconSeed(this.crypto, p.signature),
        });
        return;
      }
      if (p.kind !== 'dkgDeal' && p.kind !== 'dkgComplaint')
        refuse('TX_INVALID', `${p.kind} is not a beacon transaction`);
      if (p.epoch !== ctx.epoch + 1 || p.epoch < 2)
        refuse('TX_INVALID', `DKG for epoch ${p.epoch} in epoch ${ctx.epoch}`);
      const bctx = beaconContext(state, committeeOf(p.epoch));
      const me = memberIndexOfNode(bctx, tx.body.sender);
      if (me < 0) refuse('TX_FORBIDDEN', 'the sender is not a member of the committee');
      if (p.kind === 'dkgDeal') {
        if (pos >= L / 2) refuse('TX_INVALID', 'the dealing window has closed');
        const d = verifyDealingPublic(bctx, p.dealing);
        if (d.dealerIndex !== me) refuse('TX_FORBIDDEN', 'a dealing for another dealer');
        if (readDealing(state, p.epoch, me)) refuse('TX_DUPLICATE', 'this dealer already dealt');
        state.putRecord('dkg', dealingKey(p.epoch, me), p.dealing);
        return;
      }
      if (pos < L / 2 || pos >= (3 * L) / 4) refuse('TX_INVALID', 'outside the complaint window');
      const c = decodeComplaint(p.complaint);
      if (c.complainerIndex !== me) refuse('TX_FORBIDDEN', 'a complaint for another member');
      const dealing = readDealing(state, p.epoch, c.dealerIndex);
      if (!dealing) refuse('TX_INVALID', 'no dealing of that dealer');
      verifyComplaint(bctx, dealing, c);
      const list = readComplaints(state, p.epoch);
      if (list.some((x) => x.dealer === c.dealerIndex && x.complainer === me))
        refuse('TX_DUPLICATE', 'already complained');
      writeComplaints(state, p.epoch, [
        ...list,
        { dealer: c.dealerIndex, complainer: me, bytes: p.complaint },
      ]);
    } catch (e) {
      if (e instanceof TxError || !(e instanceof IosnetError)) throw e;
      throw new TxError('TX_INVALID', `${p.kind}: ${e.code}: ${e.message}`, {});
    }
  }

  /** At the last block of epoch e: qualify the DKG of the committee of e+1; drop epoch e's dealings. */
  endEpoch(ctx: BlockContext, state: StateWriter, committeeOf: (epoch: number) => PreparedCommittee): void {
    const next = ctx.epoch + 1;
    if (next >= 2) {
      const bctx = beaconContext(state, committeeOf(next));
      const dealings = new Map<number, Uint8Array>();
      for (let d = 0; d < bctx.members.length; d++) {
        const bytes = readDealing(state, next, d);
        if (bytes) dealings.set(d, bytes);
      }
      try {
        const q = qualify(
          bctx,
          dealings,
          readComplaints(state, next).map((c) => c.bytes),
        );
        writeDkgResult(state, next, {
          threshold: q.threshold,
          groupCommitments: q.groupCommitmentBytes,
          qualified: q.qualified,
        });
      } catch (e) {
        // Qualified dealers hold at most W/3: the DKG failed, the epoch will use the fallback seed.
        if (!(e instanceof IosnetError)) throw e;
      }
    }
    // Members of epoch e's committee computed their shares from these during epoch e; no one needs them now.
    const ended = committeeOf(ctx.epoch).committee.members.length;
    for (let d = 0; d < ended; d++) {
      if (readDealing(state, ctx.epoch, d)) state.putRecord('dkg', dealingKey(ctx.epoch, d), null);
    }
    if (state.getRecord('dkg', suffixKey(ctx.epoch, 0xfe)))
      state.putRecord('dkg', suffixKey(ctx.epoch, 0xfe), null);
  }
}
