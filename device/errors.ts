/**
 * The light client's typed errors. Callers branch on `code` (stable API); `data.cause` carries the code of
 * the core error underneath (VERIFY_*, DECODE_*) when there is one, so a log line says both what the
 * device concluded ("the gateway sent a forged state block") and what check failed.
 *
 * Every error about a gateway's answer leaves the client's verified state exactly as it was.
 */
import { IosnetError } from '../core/errors.js';

export type DeviceErrorCode =
  // ---- what a gateway sent does not hold up (an attack, or a broken gateway) ----
  /** A state block's collective signature does not verify for the committee we hold, or names another. */
  | 'DEVICE_STATE_BLOCK_FORGED'
  /** A state block is signed, but by no more than 2/3 of the committee's weight. */
  | 'DEVICE_STATE_BLOCK_UNDERSIGNED'
  /** A state block does not follow the one we hold (index, previous id, heights, chain or shard). */
  | 'DEVICE_STATE_BLOCK_NOT_SUCCESSOR'
  /** A new committee is offered without a state block of the current committee naming it. */
  | 'DEVICE_TRANSITION_UNSIGNED'
  /** A Merkle proof does not verify against the verified root (tampered record, wrong path, wrong key). */
  | 'DEVICE_PROOF_INVALID'
  /** A proof is for an older state root than the one we hold, or for a state block we have not verified. */
  | 'DEVICE_PROOF_STALE'
  /** The gateway says a transaction is unknown, but our proven nonce shows it (or its nonce) was used. */
  | 'DEVICE_TX_HIDDEN'
  /** A gateway answer is not the canonical encoding of what was asked for. */
  | 'DEVICE_MALFORMED_RESPONSE'
  /** The gateway answered with an Error message (rate limited, unavailable, ...): data.gatewayCode. */
  | 'DEVICE_GATEWAY_REFUSED'
  // ---- the device's own state ----
  | 'DEVICE_ANCHOR_INVALID'
  | 'DEVICE_NOT_SYNCED'
  | 'DEVICE_NOT_REGISTERED'
  | 'DEVICE_KEY_PERMISSIONS'
  | 'DEVICE_KEY_CORRUPT'
  | 'DEVICE_CONFIG_INVALID'
  // ---- transactions ----
  | 'DEVICE_TX_REJECTED'
  | 'DEVICE_TX_EXPIRED'
  | 'DEVICE_TX_REPLACED'
  // ---- transport ----
  | 'DEVICE_NOT_CONNECTED'
  | 'DEVICE_TIMEOUT'
  | 'DEVICE_TOO_MANY_PENDING'
  | 'DEVICE_CLOSED';

export class DeviceError extends IosnetError<DeviceErrorCode> {}

/** Throws DeviceError `code`, keeping the underlying IosnetError's code as data.cause. */
export function deviceFail(code: DeviceErrorCode, message: string, cause?: unknown, data = {}): never {
  const causeCode = cause instanceof IosnetError ? cause.code : undefined;
  const detail = cause instanceof Error ? `: ${cause.message}` : '';
  throw new DeviceError(code, `${message}${detail}`, { ...data, ...(causeCode ? { cause: causeCode } : {}) });
}
