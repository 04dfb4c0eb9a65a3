/** Identities, fixtures and waiting helpers shared by the network suites. */
import { Duplex } from 'node:stream';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8 } from '../../../../core/bytes.js';
import { createNativeCrypto } from '../../../../gateway/crypto/native.js';
import { createLogger, type Logger, type LogRecord } from '../../../../gateway/log/logger.js';
import type { HandshakeIdentity } from '../../../../gateway/network/handshake.js';
import type { Network, PeerEvent, PeerId, PeerMessage } from '../../../../gateway/network/interface.js';
import type { NetworkOptionsInput } from '../../../../gateway/network/options.js';
import { ed25519Key } from '../../../helpers/keys.js';

export const crypto = createNativeCrypto();
export const CHAIN_ID = 'iosnet-net-test';
export const GENESIS_HASH = sha256(utf8('iosnet-test/network/genesis'));

export function identity(label: string, overrides: Partial<HandshakeIdentity> = {}): HandshakeIdentity {
  const key = ed25519Key(`network/${label}`);
  return {
    crypto,
    nodeSecretKey: key.secretKey,
    nodePublicKey: key.publicKey,
    chainId: CHAIN_ID,
    genesisHash: GENESIS_HASH,
    ...overrides,
  };
}

/** Short timeouts so failures and reconnects happen within a test. */
export const fastOptions: NetworkOptionsInput = {
  reconnectMinMs: 20,
  reconnectMaxMs: 200,
  handshakeTimeoutMs: 2000,
  closeTimeoutMs: 200,
};

export async function waitFor(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Everything a network delivers, in order. */
export interface Recorder {
  readonly messages: { from: PeerId; message: PeerMessage }[];
  readonly events: PeerEvent[];
  downs(peerId?: PeerId): Extract<PeerEvent, { type: 'down' }>[];
  ups(peerId?: PeerId): Extract<PeerEvent, { type: 'up' }>[];
}

export function record(network: Network): Recorder {
  const r: Recorder = {
    messages: [],
    events: [],
    downs: (id) =>
      r.events.filter(
        (e): e is Extract<PeerEvent, { type: 'down' }> =>
          e.type === 'down' && (id === undefined || e.peerId === id),
      ),
    ups: (id) =>
      r.events.filter(
        (e): e is Extract<PeerEvent, { type: 'up' }> =>
          e.type === 'up' && (id === undefined || e.peer.peerId === id),
      ),
  };
  network.onMessage((from, message) => r.messages.push({ from, message }));
  network.onPeerEvent((e) => r.events.push(e));
  return r;
}

export function captureLogger(): { logger: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  return { logger: createLogger('iosnet:network', (rec) => records.push(rec)), records };
}

const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

/** One message of every type, with payloads of realistic sizes (a 1 MiB proposal). */
export function sampleMessages(): PeerMessage[] {
  return [
    { type: 'status', height: 123_456, view: 7, stateBlocks: 42 },
    { type: 'txs', txs: [bytes(180, 1), bytes(300, 2), bytes(0, 3)] },
    { type: 'proposal', bytes: bytes(1024 * 1024, 4) },
    { type: 'vote', bytes: bytes(200, 5) },
    { type: 'decided', height: 2 ** 40, certificate: bytes(300, 6) },
    { type: 'getBlocks', fromHeight: 100, count: 16 },
    {
      type: 'blocks',
      items: [
        { block: bytes(5000, 7), certificate: bytes(300, 8) },
        { block: bytes(10, 9), certificate: bytes(0, 10) },
      ],
    },
    { type: 'getStateBlocks', fromIndex: 3, count: 2 },
    {
      type: 'stateBlocks',
      items: [
        { stateBlock: bytes(400, 11), nextCommittee: null },
        { stateBlock: bytes(400, 12), nextCommittee: bytes(3000, 13) },
      ],
    },
    { type: 'getSnapshot', height: 1000, cursor: null },
    { type: 'getSnapshot', height: 1000, cursor: bytes(32, 14) },
    { type: 'snapshotChunk', height: 1000, chunk: bytes(4096, 15) },
    { type: 'snapshotChunk', height: 1000, chunk: bytes(1, 16) },
    { type: 'beaconPartial', epoch: 9, bytes: bytes(96 * 3, 20) },
  ];
}

/** An in-memory duplex pair (Node 20 has no stream.duplexPair): what one side writes, the other reads. */
export function duplexPair(): [Duplex, Duplex] {
  const make = (peer: () => Duplex) =>
    new Duplex({
      read() {},
      write(chunk: Buffer, _enc, cb) {
        peer().push(chunk);
        cb();
      },
      final(cb) {
        peer().push(null);
        cb();
      },
      destroy(err, cb) {
        const p = peer();
        if (!p.destroyed) p.push(null);
        cb(err);
      },
    });
  const a: Duplex = make(() => b);
  const b: Duplex = make(() => a);
  return [a, b];
}
