/**
 * Transaction rules (docs/protocol.md §6, docs/state-records.md). Each function runs inside
 * Overlay.atomically: a TxError thrown anywhere undoes every write of the transaction, fee and nonce included.
 *
 * Lazy unbonding release: every account a transaction reads (sender, recipient, the proposer credited with
 * the fee) first moves `unbonding` to `balance` when ctx.epoch >= unbondingEpoch. Deterministic, needs no
 * per-epoch sweep over all accounts, and an account that is never touched simply keeps its unbonding
 * amount (it counts toward the supply either way).
 */
import { equalBytes } from '../../core/bytes.js';
import type { Crypto } from '../../core/crypto.js';
import type { Genesis } from '../../core/genesis.js';
import { addressOf, blsPopMessage, deviceIdentityHash, shardOf, validatorIdOf } from '../../core/identity.js';
import { type AccountState, encodeDeviceRecord, encodeFileRecord, StateNamespace } from '../../core/state.js';
import { IOST_UNIT } from '../../core/token.js';
import { isSystemTx, type Transaction, verifyTxSignatures } from '../../core/tx.js';
import { type BlockContext, type SystemHooks, TxError, type TxErrorCode } from './interface.js';
import { reviewIdOf, serviceIdOf } from './keys.js';
import type { Overlay } from './overlay.js';
import { decodeReviewRecord, encodeReviewRecord, encodeServiceRecord } from './records.js';

export interface RuleContext {
  readonly ctx: BlockContext;
  readonly crypto: Crypto;
  readonly genesis: Genesis;
  readonly hooks: SystemHooks;
  readonly verifySignature: boolean;
}

function fail(code: TxErrorCode, message: string, data: Record<string, unknown> = {}): never {
  throw new TxError(code, message, data);
}

/** Reads an account for a transaction, releasing matured unbonding first. */
export function loadAccount(o: Overlay, ctx: BlockContext, address: Uint8Array): AccountState {
  const a = o.getAccount(address);
  if (a.unbonding > 0n && ctx.epoch >= a.unbondingEpoch) {
    const released = { ...a, balance: a.balance + a.unbonding, unbonding: 0n, unbondingEpoch: 0 };
    o.putAccount(address, released);
    return released;
  }
  return a;
}

function credit(o: Overlay, ctx: BlockContext, address: Uint8Array, amount: bigint): void {
  const a = loadAccount(o, ctx, address);
  o.putAccount(address, { ...a, balance: a.balance + amount });
}

export function applyTransaction(o: Overlay, r: RuleContext, tx: Transaction, txId: Uint8Array): void {
  const { ctx, crypto } = r;
  const body = tx.body;
  const p = body.payload;
  if (p.kind === 'atomixLock' || p.kind === 'atomixCommit' || p.kind === 'atomixAbort') {
    fail('TX_UNSUPPORTED', `${p.kind} is not executed yet`, { kind: p.kind });
  }
  if (body.chainId !== ctx.chainId) fail('TX_WRONG_CHAIN', `chain ${body.chainId} is not ${ctx.chainId}`);
  if (body.expiry < ctx.time) fail('TX_EXPIRED', `expired at ${body.expiry}, block time ${ctx.time}`);
  const sender = addressOf(crypto, body.sender);
  // The sender's account lives in exactly one shard; any other shard would fork its nonce and balance.
  if (shardOf(sender, r.genesis.shardCount) !== ctx.shard) {
    fail('TX_WRONG_SHARD', 'sender belongs to another shard', { field: 'sender' });
  }
  if (isSystemTx(p.kind)) {
    // Nonce- and fee-free (core/tx.ts SYSTEM_TX_KINDS): consensus's rules decide, by content.
    if (r.verifySignature) verifyTxSignatures(crypto, tx, txId);
    r.hooks.applySystemTx(ctx, tx, txId, o);
    return;
  }
  const account = loadAccount(o, ctx, sender);
  if (body.nonce !== account.nonce) {
    fail('TX_BAD_NONCE', `nonce ${body.nonce}, account expects ${account.nonce}`, {
      expected: account.nonce,
      got: body.nonce,
    });
  }
  if (r.verifySignature) verifyTxSignatures(crypto, tx, txId);
  const spend = p.kind === 'transfer' || p.kind === 'stake' ? p.amount : 0n;
  if (account.balance < body.fee + spend) {
    fail('TX_INSUFFICIENT_FUNDS', `balance ${account.balance} below ${body.fee + spend}`, {
      balance: account.balance.toString(),
      needed: (body.fee + spend).toString(),
    });
  }
  o.putAccount(sender, { ...account, nonce: account.nonce + 1, balance: account.balance - body.fee });
  credit(o, ctx, ctx.proposerOwner, body.fee);

  switch (p.kind) {
    case 'transfer': {
      if (shardOf(p.to, r.genesis.shardCount) !== ctx.shard) {
        fail('TX_WRONG_SHARD', 'recipient belongs to another shard (use Atomix)', { field: 'to' });
      }
      const a = o.getAccount(sender);
      o.putAccount(sender, { ...a, balance: a.balance - p.amount });
      credit(o, ctx, p.to, p.amount);
      return;
    }
    case 'stake': {
      const a = o.getAccount(sender);
      o.putAccount(sender, { ...a, balance: a.balance - p.amount, staked: a.staked + p.amount });
      return;
    }
    case 'unstake': {
      const a = o.getAccount(sender);
      if (a.staked < p.amount) {
        fail('TX_INSUFFICIENT_FUNDS', `staked ${a.staked} below ${p.amount}`, { field: 'amount' });
      }
      const until = ctx.epoch + ctx.params.unbondingEpochs;
      o.putAccount(sender, {
        ...a,
        staked: a.staked - p.amount,
        unbonding: a.unbonding + p.amount,
        // Merging keeps the later release: funds never leave earlier than their own unbonding period.
        unbondingEpoch: a.unbonding > 0n ? Math.max(a.unbondingEpoch, until) : until,
      });
      return;
    }
    case 'registerValidator': {
      if (o.getValidator(sender) !== undefined) fail('TX_DUPLICATE', 'account already has a validator');
      if (o.getRecord('blsKey', p.blsPublicKey) !== undefined) {
        fail('TX_DUPLICATE', 'BLS key already registered', { field: 'blsPublicKey' });
      }
      const key = crypto.bls.parsePublicKey(p.blsPublicKey);
      if (key === undefined || !crypto.bls.verify(p.blsPop, blsPopMessage(crypto, p.blsPublicKey), key)) {
        fail('TX_INVALID', 'BLS proof of possession does not verify', { field: 'blsPop' });
      }
      registerValidator(o, crypto, body.sender, p.blsPublicKey, p.endpoint, ctx.height);
      return;
    }
    case 'registerDevice': {
      const id = deviceIdentityHash(crypto, p.boardId, p.devicePublicKey, p.hardwareSerial);
      if (o.getDevice(id) !== undefined) fail('TX_DUPLICATE', 'device already registered');
      const record = encodeDeviceRecord({
        owner: sender,
        devicePublicKey: p.devicePublicKey,
        boardId: p.boardId,
        hardwareSerial: p.hardwareSerial,
        registeredHeight: ctx.height,
      });
      o.writeRecord(StateNamespace.device, id, record);
      return;
    }
    case 'registerService': {
      const id = serviceIdOf(crypto, sender, p.name);
      const old = o.getService(id);
      const record = old
        ? { ...old, price: p.price, descriptionHash: p.descriptionHash }
        : {
            provider: sender,
            name: p.name,
            price: p.price,
            descriptionHash: p.descriptionHash,
            registeredHeight: ctx.height,
            reviewCount: 0,
            reviewScoreSum: 0n,
            reviewStakeSum: 0n,
          };
      o.writeRecord(StateNamespace.service, id, encodeServiceRecord(record));
      return;
    }
    case 'review':
      applyReview(o, sender, p.serviceId, p.rating, p.commentHash, ctx.height);
      return;
    case 'storeFile': {
      if (o.getFile(p.fileRoot) !== undefined) fail('TX_DUPLICATE', 'file already stored');
      const record = encodeFileRecord({
        owner: sender,
        size: p.size,
        chunkSize: p.chunkSize,
        replication: p.replication,
        name: p.name,
        storedHeight: ctx.height,
      });
      o.writeRecord(StateNamespace.file, p.fileRoot, record);
      return;
    }
    default:
      fail('TX_INVALID', `${p.kind} has no rule`, { kind: p.kind });
  }
}

/** A validator record with zero counters, plus its BLS key claim (genesis and registerValidator). */
export function registerValidator(
  o: Overlay,
  crypto: Crypto,
  nodePublicKey: Uint8Array,
  blsPublicKey: Uint8Array,
  endpoint: string,
  height: number,
): void {
  const owner = addressOf(crypto, nodePublicKey);
  o.putValidator({
    owner,
    validatorId: validatorIdOf(crypto, nodePublicKey, blsPublicKey),
    nodePublicKey,
    blsPublicKey,
    endpoint,
    registeredHeight: height,
    slashed: false,
    servi: 0,
    done: 0,
    missed: 0,
    reviewScoreSum: 0n,
    reviewStakeSum: 0n,
  });
  // The id is the raw 48-byte key: the state key hashes it, and no new hash tag is needed.
  o.putRecord('blsKey', blsPublicKey, owner);
}

/** Saturating: consensus hooks may reset a slashed validator's sums while its reviews still exist. */
function minus(a: bigint, b: bigint): bigint {
  return a > b ? a - b : 0n;
}

function applyReview(
  o: Overlay,
  reviewer: Uint8Array,
  serviceId: Uint8Array,
  rating: number,
  commentHash: Uint8Array,
  height: number,
): void {
  const service = o.getService(serviceId);
  if (service === undefined) fail('TX_NOT_FOUND', 'no such service', { field: 'serviceId' });
  if (equalBytes(service.provider, reviewer))
    fail('TX_FORBIDDEN', 'providers cannot review their own service');
  const weight = o.getAccount(reviewer).staked / IOST_UNIT;
  const score = weight * BigInt(rating - 1);
  const reviewId = reviewIdOf(reviewer, serviceId);
  const oldBytes = o.getRecord('review', reviewId);
  const old = oldBytes === undefined ? undefined : decodeReviewRecord(oldBytes);
  const oldScore = old ? old.weight * BigInt(old.rating - 1) : 0n;
  o.writeRecord(
    StateNamespace.service,
    serviceId,
    encodeServiceRecord({
      ...service,
      reviewCount: service.reviewCount + (old ? 0 : 1),
      reviewScoreSum: minus(service.reviewScoreSum, oldScore) + score,
      reviewStakeSum: minus(service.reviewStakeSum, old?.weight ?? 0n) + weight,
    }),
  );
  const validator = o.getValidator(service.provider);
  if (validator !== undefined) {
    const counted = old?.countedForValidator === true;
    o.putValidator({
      ...validator,
      reviewScoreSum: minus(validator.reviewScoreSum, counted ? oldScore : 0n) + score,
      reviewStakeSum: minus(validator.reviewStakeSum, counted ? old!.weight : 0n) + weight,
    });
  }
  const record = encodeReviewRecord({
    reviewer,
    serviceId,
    rating,
    weight,
    commentHash,
    height,
    countedForValidator: validator !== undefined,
  });
  o.putRecord('review', reviewId, record);
}
