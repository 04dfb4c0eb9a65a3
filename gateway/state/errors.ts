import { IosnetError } from '../../core/errors.js';

export type StateErrorCode =
  /** The execution is not for the next height, or another block was committed since it began. */
  | 'STATE_NOT_SUCCESSOR'
  /** apply() after finish(), commit() before finish(), or an execution of another state. */
  | 'STATE_EXECUTION_CLOSED'
  /** prove() or a snapshot at a height whose tree or records are no longer (or not yet) kept. */
  | 'STATE_HEIGHT_NOT_RETAINED'
  /** The data directory belongs to another genesis, or holds something unreadable. */
  | 'STATE_GENESIS_MISMATCH'
  | 'STATE_CORRUPT'
  /** A snapshot chunk is malformed, out of order, or continues another snapshot. */
  | 'SNAPSHOT_INVALID'
  /** The imported records do not hash to the expected root: the snapshot is refused. */
  | 'SNAPSHOT_ROOT_MISMATCH'
  /** Importing into a store that already holds a state. */
  | 'SNAPSHOT_TARGET_NOT_EMPTY';

export class StateError extends IosnetError<StateErrorCode> {}
