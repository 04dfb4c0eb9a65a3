/**
 * One authenticated, encrypted link to a peer over any duplex stream (a TCP socket in production, an
 * in-memory pair in tests). Reads frames, enforces the frame cap and the rate limits, decrypts and decodes;
 * writes sealed frames under a bounded outbound queue. Anything wrong with what the peer sends closes THIS
 * connection with a PeerDropCode: nothing the remote does throws out of a stream event handler.
 */
import type { Duplex } from 'node:stream';
import { DecodeError } from '../../core/errors.js';
import type { Logger } from '../log/logger.js';
import { FRAME_HEADER_BYTES, GCM_TAG_BYTES } from './constants.js';
import { FrameError, FrameOpener, FrameReader, FrameSealer } from './framing.js';
import type { HandshakeResult } from './handshake.js';
import type { PeerDropCode, PeerId, PeerInfo, PeerMessage } from './interface.js';
import { decodePeerMessage } from './messages.js';
import type { NetworkOptions } from './options.js';
import { PeerRateLimiter } from './rate-limit.js';

export interface PeerConnectionHandlers {
  onMessage(connection: PeerConnection, message: PeerMessage): void;
  /** Exactly once, when the connection is closed for any reason. */
  onClose(connection: PeerConnection, code: PeerDropCode, reason: string): void;
}

export interface PeerConnectionParams {
  readonly stream: Duplex;
  readonly session: HandshakeResult;
  readonly inbound: boolean;
  readonly remoteAddress: string;
  readonly options: NetworkOptions;
  readonly handlers: PeerConnectionHandlers;
  readonly logger: Logger;
  readonly now: () => number;
}

export class PeerConnection {
  readonly peerId: PeerId;
  readonly inbound: boolean;
  readonly remoteAddress: string;
  readonly connectedAt: number;
  bytesIn = 0;
  bytesOut = 0;
  messagesIn = 0;
  messagesOut = 0;
  private closed = false;
  private retiring = false;
  private corked = false;
  private readonly stream: Duplex;
  private readonly reader: FrameReader;
  private readonly sealer: FrameSealer;
  private readonly opener: FrameOpener;
  private readonly limiter: PeerRateLimiter;
  private readonly options: NetworkOptions;
  private readonly handlers: PeerConnectionHandlers;
  private readonly log: Logger;
  private readonly now: () => number;
  private closeTimer: NodeJS.Timeout | undefined;

  constructor(p: PeerConnectionParams) {
    this.peerId = p.session.peerId;
    this.inbound = p.inbound;
    this.remoteAddress = p.remoteAddress;
    this.stream = p.stream;
    this.options = p.options;
    this.handlers = p.handlers;
    this.log = p.logger;
    this.now = p.now;
    this.connectedAt = p.now();
    this.reader = new FrameReader(p.options.maxFrameBytes);
    this.sealer = new FrameSealer(p.session.sendKey, p.options.maxFramesPerKey);
    this.opener = new FrameOpener(p.session.receiveKey, p.options.maxFramesPerKey);
    this.limiter = new PeerRateLimiter(p.options.rateLimit, p.now());
  }

  /** Starts reading: the handshake's leftover bytes first, then the stream. */
  start(leftover: readonly Buffer[]): void {
    const s = this.stream;
    s.on('data', (chunk: Buffer) => this.onData(chunk));
    s.on('error', (e: Error) => this.close('SOCKET_ERROR', e.message));
    s.on('close', () => {
      clearTimeout(this.closeTimer);
      if (this.reader.pendingBytes > 0) {
        this.close('FRAME_TRUNCATED', `stream closed inside a frame (${this.reader.pendingBytes} bytes)`);
      } else {
        this.close('REMOTE_CLOSED', 'remote closed the connection');
      }
    });
    for (const chunk of leftover) this.onData(chunk);
    if (!this.closed) s.resume();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  info(): PeerInfo {
    return {
      peerId: this.peerId,
      remoteAddress: this.remoteAddress,
      inbound: this.inbound,
      connectedAt: this.connectedAt,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      messagesIn: this.messagesIn,
      messagesOut: this.messagesOut,
    };
  }

  /**
   * Sends one encoded message. False when closed, or when the peer's queue would pass its cap: then the
   * peer is dropped (it does not read; queueing more would grow our memory without bound).
   */
  send(plaintext: Uint8Array): boolean {
    if (this.closed || this.retiring) return false;
    const size = FRAME_HEADER_BYTES + plaintext.length + GCM_TAG_BYTES;
    if (this.stream.writableLength + size > this.options.maxOutboundQueueBytes) {
      this.close(
        'OUTBOUND_QUEUE_FULL',
        `outbound queue ${this.stream.writableLength} + ${size} bytes exceeds ${this.options.maxOutboundQueueBytes}`,
      );
      return false;
    }
    let parts: Buffer[];
    try {
      parts = this.sealer.seal(plaintext);
    } catch (e) {
      // Our own key ran out (NONCE_EXHAUSTED), not the peer's fault: flush what is queued, then FIN.
      if (e instanceof FrameError) this.close(e.code, e.message, true);
      else this.closeWith(e);
      return false;
    }
    // Every frame written in one tick goes out in one writev at the end of the tick: a burst of votes
    // costs one syscall, not one each.
    if (!this.corked) {
      this.corked = true;
      this.stream.cork();
      process.nextTick(this.uncork);
    }
    for (const p of parts) this.stream.write(p);
    this.bytesOut += size;
    this.messagesOut++;
    return true;
  }

  private readonly uncork = () => {
    this.corked = false;
    this.stream.uncork();
  };

  /**
   * Closes the connection once; reports `code` to the owner. Graceful (FIN after flushing what is queued,
   * destroyed after closeTimeoutMs at the latest) for our own decisions such as stop or duplicate
   * resolution; immediate for a misbehaving peer.
   */
  close(code: PeerDropCode, reason: string, graceful = false): void {
    if (this.closed) return;
    this.closed = true;
    this.log.debug('connection closed', { peerId: this.peerId, code, reason });
    if (graceful && !this.stream.destroyed) {
      if (!this.retiring) this.stream.end();
      clearTimeout(this.closeTimer);
      this.closeTimer = setTimeout(() => this.stream.destroy(), this.options.closeTimeoutMs);
    } else {
      clearTimeout(this.closeTimer);
      this.stream.destroy();
    }
    try {
      this.handlers.onClose(this, code, reason);
    } catch (e) {
      this.log.warn('onClose handler threw', { peerId: this.peerId, error: e });
    }
  }

  /**
   * Stops sending and half-closes, but keeps delivering what the peer already sent until its side closes
   * too (a connection that lost the duplicate resolution: its in-flight messages are still authentic).
   */
  retire(): void {
    if (this.closed || this.retiring) return;
    this.retiring = true;
    this.stream.end();
    this.closeTimer = setTimeout(() => this.stream.destroy(), this.options.closeTimeoutMs);
  }

  /** Resolves when the underlying stream has closed (stop() waits on this). */
  whenStreamClosed(): Promise<void> {
    if (this.stream.closed) return Promise.resolve();
    return new Promise((resolve) => this.stream.once('close', () => resolve()));
  }

  private closeWith(e: unknown): void {
    if (e instanceof FrameError) {
      this.close(e.code, e.message);
    } else if (e instanceof DecodeError) {
      this.close('MESSAGE_INVALID', `${e.code}: ${e.message}`);
    } else {
      // Not the peer's fault as far as we know, but the stream state is unknown: drop it, keep the node.
      this.log.warn('unexpected error on a connection', { peerId: this.peerId, error: e });
      this.close('SOCKET_ERROR', `internal: ${String(e)}`);
    }
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    try {
      this.reader.push(chunk);
      for (;;) {
        const body = this.reader.next();
        if (body === undefined) break;
        this.onFrame(body);
        if (this.closed) return;
      }
    } catch (e) {
      this.closeWith(e);
    }
  }

  private onFrame(body: Buffer): void {
    const frameBytes = body.length + FRAME_HEADER_BYTES;
    this.bytesIn += frameBytes;
    const verdict = this.limiter.check(frameBytes, this.now());
    if (verdict !== 'accept') {
      if (verdict === 'drop') {
        this.close(
          'RATE_LIMITED',
          `kept exceeding the rate limits (${this.limiter.discarded} frames discarded)`,
        );
        return;
      }
      this.opener.skip();
      return;
    }
    const message = decodePeerMessage(this.opener.open(body));
    this.messagesIn++;
    try {
      this.handlers.onMessage(this, message);
    } catch (e) {
      // The consumer's bug, not the peer's: log it, keep the connection.
      this.log.warn('message handler threw', { peerId: this.peerId, type: message.type, error: e });
    }
  }
}
