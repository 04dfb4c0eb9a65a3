/**
 * Protocol constants of the peer network (docs/peer-protocol.md): the handshake's tag and version, fixed
 * sizes of the wire format, and the per-field bounds of every PeerMessage. Changing any of these is a
 * protocol change: bump HANDSHAKE_VERSION.
 */

import { MAX_BLOCK_BYTES } from '../../core/block.js';
import { MAX_COMMITTEE_BYTES } from '../../core/committee.js';
import { DomainTag } from '../../core/hash.js';
import { MAX_CERTIFICATE_BYTES } from '../../core/header.js';
import { MAX_RECORD_BYTES } from '../../core/state.js';
import { MAX_STATE_BLOCK_BYTES } from '../../core/state-block.js';
import { MAX_TX_BYTES } from '../../core/tx.js';
import { MAX_VIEW, MAX_VOTE_BYTES } from '../consensus/messages.js';

// ---------------------------------------------------------------------------------------------- handshake

/** Version field of the hello; a peer announcing another version is refused. */
export const HANDSHAKE_VERSION = 1;
/** Domain tag of the handshake transcript (core's DomainTag registry, docs/protocol.md §2). */
export const HANDSHAKE_TAG = DomainTag.handshake;
/** HKDF-SHA256 `info` of the session keys. */
export const HANDSHAKE_KEYS_INFO = 'iosnet/handshake/v1/keys';
/** Role byte appended to the transcript in each side's signature message (no reflection of signatures). */
export const ROLE_INITIATOR = 0x00;
export const ROLE_RESPONDER = 0x01;
/** A hello is at most ~175 bytes (chain id ≤ 32); anything larger is refused before it is buffered. */
export const MAX_HANDSHAKE_MESSAGE_BYTES = 256;
export const NONCE_BYTES = 32;
export const KEY_BYTES = 32;
export const GENESIS_HASH_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;

// ------------------------------------------------------------------------------------------------ framing

/** u32 big-endian length prefix of every frame (handshake messages and encrypted frames). */
export const FRAME_HEADER_BYTES = 4;
export const GCM_TAG_BYTES = 16;
export const GCM_NONCE_BYTES = 12;
/**
 * Frames per direction and session key before the connection is closed (the dialer reconnects with fresh
 * keys). The nonce is a 64-bit counter, so this is far from wrapping; 2^48 keeps the counter a safe JS
 * integer and the GCM invocation count well inside NIST SP 800-38D's bounds for deterministic nonces.
 */
export const MAX_FRAMES_PER_KEY = 2 ** 48;

// -------------------------------------------------------------------------------------- message bounds

/** Largest signed proposal: a full block plus view, polView, a certificate and a BLS signature. */
export const MAX_PROPOSAL_BYTES = MAX_BLOCK_BYTES + 4096;
export const MAX_TXS_PER_MESSAGE = 4096;
export const MAX_BLOCKS_PER_MESSAGE = 64;
export const MAX_STATE_BLOCKS_PER_MESSAGE = 256;
/** A snapshot chunk (gateway/state/snapshot.ts, ~1 MiB by default) travels as its own encoding. */
export const MAX_SNAPSHOT_CHUNK_BYTES = 8 * 1024 * 1024;
/** Snapshot keys and cursors are state keys (32 bytes today); 64 leaves room without reopening the codec. */
export const MAX_SNAPSHOT_KEY_BYTES = 64;
/** A member's beacon partials: one 96-byte BLS share signature per share it holds, plus indexes. */
export const MAX_BEACON_PARTIAL_BYTES = 64 * 1024;
/** Views are u32 with 0xffffffff reserved (consensus's bound, re-exported for the codec). */
export { MAX_VIEW };

export const PeerMessageBounds = {
  tx: MAX_TX_BYTES,
  proposal: MAX_PROPOSAL_BYTES,
  vote: MAX_VOTE_BYTES,
  certificate: MAX_CERTIFICATE_BYTES,
  block: MAX_BLOCK_BYTES,
  stateBlock: MAX_STATE_BLOCK_BYTES,
  committee: MAX_COMMITTEE_BYTES,
  record: MAX_RECORD_BYTES,
  beaconPartial: MAX_BEACON_PARTIAL_BYTES,
} as const;
