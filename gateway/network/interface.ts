/**
 * The peer network as consensus sees it: authenticated peers exchanging typed messages. The TCP
 * implementation (node:net, handshake with node keys, encrypted length-prefixed frames) and an in-memory
 * one (deterministic simulator, tests) both implement this interface. A peer that sends a malformed or
 * oversized frame, or exceeds its rate limits, is dropped: never the node.
 */

/** Lowercase hex of the peer's Ed25519 node public key, proven in the handshake. */
export type PeerId = string;

/**
 * Messages of the peer protocol (docs/protocol.md §13). Consensus objects travel as their exact signed
 * bytes (`proposal`, `vote`, ...): consensus decodes and checks them, and keeps the bytes as evidence.
 */
export type PeerMessage =
  | {
      readonly type: 'status';
      readonly height: number;
      readonly view: number;
      /** How many state blocks the sender holds (0: none yet). */
      readonly stateBlocks: number;
    }
  | { readonly type: 'txs'; readonly txs: readonly Uint8Array[] }
  | { readonly type: 'proposal'; readonly bytes: Uint8Array }
  | { readonly type: 'vote'; readonly bytes: Uint8Array }
  | { readonly type: 'decided'; readonly height: number; readonly certificate: Uint8Array }
  | { readonly type: 'getBlocks'; readonly fromHeight: number; readonly count: number }
  | {
      readonly type: 'blocks';
      readonly items: readonly { readonly block: Uint8Array; readonly certificate: Uint8Array }[];
    }
  | { readonly type: 'getStateBlocks'; readonly fromIndex: number; readonly count: number }
  | {
      readonly type: 'stateBlocks';
      readonly items: readonly {
        readonly stateBlock: Uint8Array;
        readonly nextCommittee: Uint8Array | null;
      }[];
    }
  | { readonly type: 'getSnapshot'; readonly height: number; readonly cursor: Uint8Array | null }
  | {
      readonly type: 'snapshotChunk';
      readonly height: number;
      /** An encoded SnapshotChunk (docs/state-records.md): the state checks it, the network only carries it. */
      readonly chunk: Uint8Array;
    }
  | { readonly type: 'beaconPartial'; readonly epoch: number; readonly bytes: Uint8Array };

export type PeerMessageType = PeerMessage['type'];

export interface PeerInfo {
  readonly peerId: PeerId;
  readonly remoteAddress: string;
  readonly inbound: boolean;
  readonly connectedAt: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly messagesIn: number;
  readonly messagesOut: number;
}

/**
 * Why a peer went down. Callers branch on the code (stable API), never on `reason` (for humans). The codes a
 * misbehaving remote can cause are the ones consensus may want to count against it.
 */
export type PeerDropCode =
  /** The remote closed the connection between frames. */
  | 'REMOTE_CLOSED'
  /** The transport failed (reset, timeout). */
  | 'SOCKET_ERROR'
  /** A length prefix above maxFrameBytes (refused before buffering the body). */
  | 'FRAME_OVERSIZE'
  /** The remote closed in the middle of a frame. */
  | 'FRAME_TRUNCATED'
  /** AES-GCM authentication failed: tampering, or a peer that does not hold the session key. */
  | 'FRAME_DECRYPT_FAILED'
  /** An authentic frame whose plaintext is not a valid PeerMessage (reason carries the DecodeError code). */
  | 'MESSAGE_INVALID'
  /** Kept exceeding its byte or message rate; banned for banMs. */
  | 'RATE_LIMITED'
  /** Did not read fast enough: our outbound queue to it passed its cap. */
  | 'OUTBOUND_QUEUE_FULL'
  /** A direction's frame counter reached its limit; the dialer reconnects with fresh keys. */
  | 'NONCE_EXHAUSTED'
  /** penalize() was called; banned for banMs. */
  | 'PENALIZED'
  /** This node is stopping. */
  | 'STOPPED'
  /** Memory network only: the test or simulator cut the link. */
  | 'LINK_CUT';

export type PeerEvent =
  | { readonly type: 'up'; readonly peer: PeerInfo }
  | {
      readonly type: 'down';
      readonly peerId: PeerId;
      readonly code: PeerDropCode;
      readonly reason: string;
    };

export interface Network {
  /** This node's PeerId. */
  readonly peerId: PeerId;
  /** Starts listening and dialing; resolves with the bound port. */
  start(): Promise<{ port: number }>;
  /** Closes every connection and the listener. */
  stop(): Promise<void>;
  /** Sends to every connected peer. */
  broadcast(message: PeerMessage): void;
  /** Sends to one peer; false if it is not connected. */
  send(peerId: PeerId, message: PeerMessage): boolean;
  /** The single consumer of incoming messages (consensus). */
  onMessage(handler: (from: PeerId, message: PeerMessage) => void): void;
  onPeerEvent(handler: (event: PeerEvent) => void): void;
  /** Dials (and keeps redialing) an endpoint "host:port". */
  addPeer(endpoint: string): void;
  /** Drops a peer that misbehaved at the protocol level, and refuses it for a while. */
  penalize(peerId: PeerId, reason: string): void;
  peers(): PeerInfo[];
}
