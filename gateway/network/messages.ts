/**
 * Codec of PeerMessage (docs/peer-protocol.md §4): the plaintext of every encrypted frame is one canonical
 * CBOR array `[type uint, ...fields]` (docs/protocol.md §1). Type numbers come from PeerMessageCode and are
 * never reused. Consensus payloads (proposal, vote, certificate, blocks, beacon partials) are opaque byte
 * strings: the network bounds their size and consensus decodes them.
 *
 * Decoding is strict (core's CborReader: shortest forms, no trailing bytes, every count and length bounded
 * before allocation) and only ever throws DecodeError. Encoding checks the same bounds and throws
 * ArgumentError, so a node never sends what an honest peer would drop it for.
 */
import { CborReader, CborWriter, type LengthBound } from '../../core/cbor.js';
import { ArgumentError, DecodeError } from '../../core/errors.js';
import {
  PeerMessageBounds as B,
  MAX_BLOCKS_PER_MESSAGE,
  MAX_SNAPSHOT_CHUNK_BYTES,
  MAX_SNAPSHOT_KEY_BYTES,
  MAX_STATE_BLOCKS_PER_MESSAGE,
  MAX_TXS_PER_MESSAGE,
  MAX_VIEW,
} from './constants.js';
import type { PeerMessage, PeerMessageType } from './interface.js';

/** Message type numbers (docs/peer-protocol.md §4). Append only; a retired number is never reused. */
export const PeerMessageCode = {
  status: 1,
  txs: 2,
  proposal: 3,
  vote: 4,
  decided: 5,
  getBlocks: 6,
  blocks: 7,
  getStateBlocks: 8,
  stateBlocks: 9,
  getSnapshot: 10,
  snapshotChunk: 11,
  beaconPartial: 12,
} as const satisfies Record<PeerMessageType, number>;

/** Items of each message's top-level array, type included. */
const ARITY: Record<PeerMessageType, number> = {
  status: 4,
  txs: 2,
  proposal: 2,
  vote: 2,
  decided: 3,
  getBlocks: 3,
  blocks: 2,
  getStateBlocks: 3,
  stateBlocks: 2,
  getSnapshot: 3,
  snapshotChunk: 3,
  beaconPartial: 3,
};

const TYPE_BY_CODE = new Map<number, PeerMessageType>(
  (Object.entries(PeerMessageCode) as [PeerMessageType, number][]).map(([k, v]) => [v, k]),
);

const MAX_ARITY = Math.max(...Object.values(ARITY));
const UINT = Number.MAX_SAFE_INTEGER;

// ------------------------------------------------------------------------------------------------ encode

function checkUint(value: unknown, field: string, max = UINT, min = 0): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ArgumentError(field, `expected an integer in [${min}, ${max}]`);
  }
  return value;
}

function checkBytes(value: unknown, field: string, max: number, min = 0): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new ArgumentError(field, 'expected Uint8Array');
  if (value.length > max || value.length < min) {
    throw new ArgumentError(field, `expected ${min}..${max} bytes, got ${value.length}`);
  }
  return value;
}

function checkList<T>(value: readonly T[], field: string, max: number): readonly T[] {
  if (!Array.isArray(value)) throw new ArgumentError(field, 'expected an array');
  if (value.length > max) throw new ArgumentError(field, `at most ${max} items, got ${value.length}`);
  return value;
}

function writeBytesOrNull(w: CborWriter, value: Uint8Array | null, field: string, max: number): void {
  if (value === null) w.null();
  else w.bytes(checkBytes(value, field, max));
}

/** Payload bytes of a message, so the writer allocates once even for an 8 MiB proposal. */
function payloadSize(m: PeerMessage): number {
  switch (m.type) {
    case 'txs':
      return m.txs.reduce((n, t) => n + (t?.length ?? 0) + 5, 0);
    case 'proposal':
    case 'vote':
    case 'beaconPartial':
      return m.bytes?.length ?? 0;
    case 'decided':
      return m.certificate?.length ?? 0;
    case 'blocks':
      return m.items.reduce((n, i) => n + (i?.block?.length ?? 0) + (i?.certificate?.length ?? 0) + 12, 0);
    case 'stateBlocks':
      return m.items.reduce(
        (n, i) => n + (i?.stateBlock?.length ?? 0) + (i?.nextCommittee?.length ?? 0) + 12,
        0,
      );
    case 'snapshotChunk':
      return m.chunk?.length ?? 0;
    default:
      return 0;
  }
}

/** Writes one message; throws ArgumentError (nothing sent) if a field breaks the bounds of §4. */
export function writePeerMessage(w: CborWriter, m: PeerMessage): void {
  const code = PeerMessageCode[m?.type as PeerMessageType];
  if (code === undefined) throw new ArgumentError('message.type', `unknown type ${String(m?.type)}`);
  w.array(ARITY[m.type]).uint(code);
  switch (m.type) {
    case 'status':
      w.uint(checkUint(m.height, 'status.height'))
        .uint(checkUint(m.view, 'status.view', MAX_VIEW))
        .uint(checkUint(m.stateBlocks, 'status.stateBlocks'));
      return;
    case 'txs': {
      const txs = checkList(m.txs, 'txs.txs', MAX_TXS_PER_MESSAGE);
      w.array(txs.length);
      for (let i = 0; i < txs.length; i++) w.bytes(checkBytes(txs[i], `txs.txs[${i}]`, B.tx));
      return;
    }
    case 'proposal':
      w.bytes(checkBytes(m.bytes, 'proposal.bytes', B.proposal));
      return;
    case 'vote':
      w.bytes(checkBytes(m.bytes, 'vote.bytes', B.vote));
      return;
    case 'decided':
      w.uint(checkUint(m.height, 'decided.height')).bytes(
        checkBytes(m.certificate, 'decided.certificate', B.certificate),
      );
      return;
    case 'getBlocks':
      w.uint(checkUint(m.fromHeight, 'getBlocks.fromHeight')).uint(
        checkUint(m.count, 'getBlocks.count', MAX_BLOCKS_PER_MESSAGE, 1),
      );
      return;
    case 'blocks': {
      const items = checkList(m.items, 'blocks.items', MAX_BLOCKS_PER_MESSAGE);
      w.array(items.length);
      for (let i = 0; i < items.length; i++) {
        const it = items[i]!;
        w.array(2)
          .bytes(checkBytes(it?.block, `blocks.items[${i}].block`, B.block))
          .bytes(checkBytes(it?.certificate, `blocks.items[${i}].certificate`, B.certificate));
      }
      return;
    }
    case 'getStateBlocks':
      w.uint(checkUint(m.fromIndex, 'getStateBlocks.fromIndex')).uint(
        checkUint(m.count, 'getStateBlocks.count', MAX_STATE_BLOCKS_PER_MESSAGE, 1),
      );
      return;
    case 'stateBlocks': {
      const items = checkList(m.items, 'stateBlocks.items', MAX_STATE_BLOCKS_PER_MESSAGE);
      w.array(items.length);
      for (let i = 0; i < items.length; i++) {
        const it = items[i]!;
        w.array(2).bytes(checkBytes(it?.stateBlock, `stateBlocks.items[${i}].stateBlock`, B.stateBlock));
        writeBytesOrNull(w, it?.nextCommittee ?? null, `stateBlocks.items[${i}].nextCommittee`, B.committee);
      }
      return;
    }
    case 'getSnapshot':
      w.uint(checkUint(m.height, 'getSnapshot.height'));
      writeBytesOrNull(w, m.cursor, 'getSnapshot.cursor', MAX_SNAPSHOT_KEY_BYTES);
      return;
    case 'snapshotChunk':
      w.uint(checkUint(m.height, 'snapshotChunk.height')).bytes(
        checkBytes(m.chunk, 'snapshotChunk.chunk', MAX_SNAPSHOT_CHUNK_BYTES, 1),
      );
      return;
    case 'beaconPartial':
      w.uint(checkUint(m.epoch, 'beaconPartial.epoch')).bytes(
        checkBytes(m.bytes, 'beaconPartial.bytes', B.beaconPartial),
      );
      return;
  }
}

/**
 * Canonical bytes of a message. With maxBytes, a message whose encoding is larger throws ArgumentError
 * (the sender's bug: the receiver would drop us for the frame).
 */
export function encodePeerMessage(m: PeerMessage, maxBytes = Number.POSITIVE_INFINITY): Uint8Array {
  const w = new CborWriter(payloadSize(m) + 64);
  writePeerMessage(w, m);
  const bytes = w.finish();
  if (bytes.length > maxBytes) {
    throw new ArgumentError('message', `encodes to ${bytes.length} bytes, above the limit of ${maxBytes}`);
  }
  return bytes;
}

// ------------------------------------------------------------------------------------------------ decode

function readBytesOrNull(r: CborReader, field: string, bound: LengthBound): Uint8Array | null {
  return r.nullIf() ? null : r.bytesField(field, bound);
}

/** Reads one message from `r` (which may hold more after it: the caller checks the end). */
export function readPeerMessage(r: CborReader): PeerMessage {
  const start = r.pos;
  const n = r.array('peerMessage', { min: 1, max: MAX_ARITY });
  const code = r.uint('peerMessage.type', 0xffff);
  const type = TYPE_BY_CODE.get(code);
  if (type === undefined) {
    throw new DecodeError('DECODE_UNKNOWN_TYPE', `peerMessage.type: unknown message type ${code}`, {
      field: 'peerMessage.type',
      offset: start,
      got: code,
    });
  }
  if (n !== ARITY[type]) {
    throw new DecodeError('DECODE_INVALID_LENGTH', `${type}: expected ${ARITY[type]} items, got ${n}`, {
      field: type,
      offset: start,
      got: n,
    });
  }
  switch (type) {
    case 'status':
      return {
        type,
        height: r.uint('status.height'),
        view: r.uint('status.view', MAX_VIEW),
        stateBlocks: r.uint('status.stateBlocks'),
      };
    case 'txs': {
      const count = r.array('txs.txs', { max: MAX_TXS_PER_MESSAGE });
      const txs: Uint8Array[] = [];
      for (let i = 0; i < count; i++) txs.push(r.bytesField('txs.txs[]', { max: B.tx }));
      return { type, txs };
    }
    case 'proposal':
      return { type, bytes: r.bytesField('proposal.bytes', { max: B.proposal }) };
    case 'vote':
      return { type, bytes: r.bytesField('vote.bytes', { max: B.vote }) };
    case 'decided':
      return {
        type,
        height: r.uint('decided.height'),
        certificate: r.bytesField('decided.certificate', { max: B.certificate }),
      };
    case 'getBlocks':
      return {
        type,
        fromHeight: r.uint('getBlocks.fromHeight'),
        count: readCount(r, 'getBlocks.count', MAX_BLOCKS_PER_MESSAGE),
      };
    case 'blocks': {
      const count = r.array('blocks.items', { max: MAX_BLOCKS_PER_MESSAGE });
      const items: { block: Uint8Array; certificate: Uint8Array }[] = [];
      for (let i = 0; i < count; i++) {
        r.array('blocks.items[]', 2);
        const block = r.bytesField('blocks.items[].block', { max: B.block });
        const certificate = r.bytesField('blocks.items[].certificate', { max: B.certificate });
        items.push({ block, certificate });
      }
      return { type, items };
    }
    case 'getStateBlocks':
      return {
        type,
        fromIndex: r.uint('getStateBlocks.fromIndex'),
        count: readCount(r, 'getStateBlocks.count', MAX_STATE_BLOCKS_PER_MESSAGE),
      };
    case 'stateBlocks': {
      const count = r.array('stateBlocks.items', { max: MAX_STATE_BLOCKS_PER_MESSAGE });
      const items: { stateBlock: Uint8Array; nextCommittee: Uint8Array | null }[] = [];
      for (let i = 0; i < count; i++) {
        r.array('stateBlocks.items[]', 2);
        const stateBlock = r.bytesField('stateBlocks.items[].stateBlock', { max: B.stateBlock });
        const nextCommittee = readBytesOrNull(r, 'stateBlocks.items[].nextCommittee', { max: B.committee });
        items.push({ stateBlock, nextCommittee });
      }
      return { type, items };
    }
    case 'getSnapshot':
      return {
        type,
        height: r.uint('getSnapshot.height'),
        cursor: readBytesOrNull(r, 'getSnapshot.cursor', { max: MAX_SNAPSHOT_KEY_BYTES }),
      };
    case 'snapshotChunk':
      return {
        type,
        height: r.uint('snapshotChunk.height'),
        chunk: r.bytesField('snapshotChunk.chunk', { min: 1, max: MAX_SNAPSHOT_CHUNK_BYTES }),
      };
    case 'beaconPartial':
      return {
        type,
        epoch: r.uint('beaconPartial.epoch'),
        bytes: r.bytesField('beaconPartial.bytes', { max: B.beaconPartial }),
      };
  }
}

function readCount(r: CborReader, field: string, max: number): number {
  const offset = r.pos;
  const count = r.uint(field, max);
  if (count < 1) {
    throw new DecodeError('DECODE_INVALID_VALUE', `${field}: must be at least 1`, { field, offset });
  }
  return count;
}

/** Strict decode of exactly one message (no trailing bytes); throws DecodeError only. */
export function decodePeerMessage(bytes: Uint8Array, maxBytes = Number.POSITIVE_INFINITY): PeerMessage {
  if (bytes.length > maxBytes) {
    throw new DecodeError('DECODE_OVERSIZE', `peerMessage: ${bytes.length} bytes exceeds ${maxBytes}`, {
      field: 'peerMessage',
      max: maxBytes,
      got: bytes.length,
    });
  }
  const r = new CborReader(bytes);
  const m = readPeerMessage(r);
  r.end('peerMessage');
  return m;
}
