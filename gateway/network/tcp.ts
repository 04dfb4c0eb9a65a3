/**
 * The peer network over TCP (node:net): listens, dials and redials endpoints with backoff, authenticates
 * every connection with the handshake (handshake.ts), keeps one connection per peer pair, and carries
 * encrypted frames (connection.ts). Everything a remote can do wrong ends in a closed connection (and, for
 * rate abuse or penalize(), a ban); nothing it sends can throw out of an event handler or stop the node.
 */
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { abytes, equalBytes, toHex } from '../../core/bytes.js';
import { ArgumentError } from '../../core/errors.js';
import { type Logger, logger } from '../log/logger.js';
import { listen } from '../util/listen.js';
import { PeerConnection, type PeerConnectionHandlers } from './connection.js';
import { GCM_TAG_BYTES } from './constants.js';
import { backoffDelay, createDialer, type Dialer } from './dialer.js';
import {
  HandshakeError,
  type HandshakeIdentity,
  type HandshakeResult,
  type HandshakeRole,
  performHandshake,
} from './handshake.js';
import type { Network, PeerEvent, PeerId, PeerInfo, PeerMessage } from './interface.js';
import { encodePeerMessage } from './messages.js';
import { type NetworkOptionsInput, parseEndpoint, resolveNetworkOptions } from './options.js';
import { BanList } from './rate-limit.js';

export interface TcpNetworkDependencies extends HandshakeIdentity {
  /** Default: `logger('iosnet:network')`, silent unless DEBUG names it. */
  readonly logger?: Logger;
  /** Wall clock in ms for bans and rate limits (default Date.now). */
  readonly now?: () => number;
  /** Uniform [0, 1) for backoff jitter (default Math.random). */
  readonly random?: () => number;
}

export interface TcpNetwork extends Network {
  /** The bound port once started. */
  readonly port: number | undefined;
}

function checkIdentity(deps: TcpNetworkDependencies): void {
  abytes(deps.nodeSecretKey, 'nodeSecretKey', 32);
  abytes(deps.nodePublicKey, 'nodePublicKey', 32);
  abytes(deps.genesisHash, 'genesisHash', 32);
  if (typeof deps.chainId !== 'string' || deps.chainId === '') {
    throw new ArgumentError('chainId', 'expected a chain id');
  }
  if (!equalBytes(deps.crypto.ed25519.getPublicKey(deps.nodeSecretKey), deps.nodePublicKey)) {
    throw new ArgumentError('nodePublicKey', 'is not the public key of nodeSecretKey');
  }
}

export function createTcpNetwork(input: NetworkOptionsInput, deps: TcpNetworkDependencies): TcpNetwork {
  const options = resolveNetworkOptions(input);
  checkIdentity(deps);
  const log = deps.logger ?? logger('iosnet:network');
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const selfId = toHex(deps.nodePublicKey);
  const maxPlaintext = options.maxFrameBytes - GCM_TAG_BYTES;
  const allowed = options.allowedPeers === null ? null : new Set(options.allowedPeers);

  /** The one current connection per peer. */
  const connections = new Map<PeerId, PeerConnection>();
  /** Connections that lost a duplicate resolution and are draining. */
  const retiring = new Set<PeerConnection>();
  /** Sockets still in the handshake. */
  const pending = new Set<Socket>();
  const dialers = new Map<string, Dialer>();
  const bans = new BanList();
  const eventHandlers: ((event: PeerEvent) => void)[] = [];
  let messageHandler: ((from: PeerId, message: PeerMessage) => void) | undefined;
  let server: Server | undefined;
  let port: number | undefined;
  let state: 'new' | 'started' | 'stopped' = 'new';

  function emit(event: PeerEvent): void {
    for (const h of eventHandlers) {
      try {
        h(event);
      } catch (e) {
        log.warn('peer event handler threw', { type: event.type, error: e });
      }
    }
  }

  function authorize(peerId: PeerId): HandshakeError | undefined {
    if (allowed !== null && !allowed.has(peerId)) {
      return new HandshakeError('HANDSHAKE_REFUSED', 'not in allowedPeers', { peerId });
    }
    if (bans.bannedUntil(peerId, now()) !== undefined) {
      return new HandshakeError('HANDSHAKE_REFUSED', 'banned', { peerId, banned: true });
    }
    if (!connections.has(peerId) && connections.size >= options.maxPeers) {
      return new HandshakeError('HANDSHAKE_REFUSED', `peer limit ${options.maxPeers} reached`, { peerId });
    }
    return undefined;
  }

  function configure(socket: Socket): void {
    // A permanent listener: an 'error' between two owners of the socket must never be unhandled (crash).
    socket.on('error', () => {});
    socket.setNoDelay(true); // consensus messages are latency-bound and already batched per frame
    if (options.keepAliveMs > 0) socket.setKeepAlive(true, options.keepAliveMs);
  }

  function handshake(socket: Socket, role: HandshakeRole): Promise<HandshakeResult> {
    pending.add(socket);
    return performHandshake(socket, {
      ...deps,
      role,
      timeoutMs: options.handshakeTimeoutMs,
      authorize,
    }).finally(() => pending.delete(socket));
  }

  function remoteOf(socket: Socket): string {
    const host = socket.remoteAddress ?? '?';
    return `${host.includes(':') ? `[${host}]` : host}:${socket.remotePort ?? 0}`;
  }

  function logRefusal(e: unknown, remote: string, role: HandshakeRole): void {
    const code = e instanceof HandshakeError ? e.code : 'UNKNOWN';
    log.debug('handshake failed', { code, remote, role, reason: e instanceof Error ? e.message : String(e) });
  }

  // ------------------------------------------------------------------------------------- connections

  /**
   * Both ends must keep the same one of two connections without talking: if the pair dialed each other,
   * keep the one initiated by the lower PeerId; if both go the same way, the peer redialed (it restarted,
   * or lost the old link without our noticing), so the newer one wins.
   */
  function keepIncoming(existing: PeerConnection, incoming: PeerConnection): boolean {
    if (existing.inbound === incoming.inbound) return true;
    const lowerInitiatesInbound = incoming.peerId < selfId;
    return incoming.inbound === lowerInitiatesInbound;
  }

  const handlers: PeerConnectionHandlers = {
    onMessage(conn, message) {
      messageHandler?.(conn.peerId, message);
    },
    onClose(conn, code, reason) {
      retiring.delete(conn);
      if (connections.get(conn.peerId) !== conn) return;
      connections.delete(conn.peerId);
      if (code === 'RATE_LIMITED') bans.ban(conn.peerId, now() + options.banMs);
      emit({ type: 'down', peerId: conn.peerId, code, reason });
      if (state !== 'started') return;
      const longLived = now() - conn.connectedAt >= options.reconnectMaxMs;
      for (const d of dialers.values()) {
        if (d.peerId === conn.peerId && d.state === 'connected') {
          if (longLived) d.attempt = 0;
          retry(d);
        }
      }
    },
  };

  /** Never throws: it runs in a promise callback, where a throw would be an unhandled rejection (a crash). */
  function establish(socket: Socket, session: HandshakeResult, inbound: boolean): void {
    try {
      register(socket, session, inbound);
    } catch (e) {
      log.warn('could not register a connection', { peerId: session.peerId, error: e });
      socket.destroy();
    }
  }

  function register(socket: Socket, session: HandshakeResult, inbound: boolean): void {
    if (state !== 'started' || bans.bannedUntil(session.peerId, now()) !== undefined) {
      socket.destroy();
      return;
    }
    const conn = new PeerConnection({
      stream: socket,
      session,
      inbound,
      remoteAddress: remoteOf(socket),
      options,
      handlers,
      logger: log,
      now,
    });
    const existing = connections.get(session.peerId);
    let up = false;
    if (existing === undefined) {
      connections.set(conn.peerId, conn);
      up = true;
    } else if (keepIncoming(existing, conn)) {
      connections.set(conn.peerId, conn);
      retiring.add(existing);
      existing.retire();
    } else {
      retiring.add(conn);
    }
    log.debug('connection established', { peerId: conn.peerId, inbound, kept: !retiring.has(conn) });
    for (const d of dialers.values())
      if (d.peerId === conn.peerId && d.state !== 'self') d.state = 'connected';
    if (up) emit({ type: 'up', peer: conn.info() });
    // Registered (and announced) before reading: frames that came with the handshake's last message are
    // delivered now, after 'up'.
    conn.start(session.leftover);
    if (retiring.has(conn)) conn.retire();
  }

  function accept(socket: Socket): void {
    if (state !== 'started' || pending.size >= options.maxPendingHandshakes) {
      socket.destroy();
      return;
    }
    configure(socket);
    const remote = remoteOf(socket);
    handshake(socket, 'responder').then(
      (session) => establish(socket, session, true),
      (e) => {
        socket.destroy();
        logRefusal(e, remote, 'responder');
      },
    );
  }

  // ---------------------------------------------------------------------------------------- dialing

  function schedule(d: Dialer, delayMs: number): void {
    clearTimeout(d.timer);
    if (state !== 'started') return;
    d.state = 'waiting';
    d.timer = setTimeout(() => dial(d), delayMs);
  }

  function retry(d: Dialer): void {
    schedule(d, backoffDelay(d.attempt++, options.reconnectMinMs, options.reconnectMaxMs, random));
  }

  function dial(d: Dialer): void {
    d.timer = undefined;
    if (state !== 'started') return;
    if (d.peerId !== undefined) {
      if (connections.has(d.peerId)) {
        d.state = 'connected';
        return;
      }
      const until = bans.bannedUntil(d.peerId, now());
      if (until !== undefined) {
        schedule(d, until - now());
        return;
      }
    }
    d.state = 'dialing';
    const socket = netConnect({ host: d.address.host, port: d.address.port });
    configure(socket);
    handshake(socket, 'initiator').then(
      (session) => {
        d.peerId = session.peerId;
        establish(socket, session, false);
        if (d.state === 'dialing') retry(d); // not established (stopping or banned meanwhile)
      },
      (e) => {
        socket.destroy();
        logRefusal(e, d.endpoint, 'initiator');
        if (e instanceof HandshakeError && e.code === 'HANDSHAKE_SELF') {
          d.state = 'self';
          return;
        }
        if (state === 'started') retry(d);
      },
    );
  }

  // ------------------------------------------------------------------------------------------- API

  function addDialer(endpoint: string): void {
    if (dialers.has(endpoint) || state === 'stopped') return;
    const d = createDialer(endpoint, parseEndpoint(endpoint));
    dialers.set(endpoint, d);
    if (state === 'started') dial(d);
  }

  for (const p of options.peers) addDialer(p);

  return {
    peerId: selfId,
    get port() {
      return port;
    },

    async start() {
      if (state !== 'new') throw new Error('network: start() may be called once');
      const srv = createServer((socket) => accept(socket));
      await listen(srv, options.listenPort, options.listenHost, 'p2p', 'p2p.listen');
      srv.on('error', (e) => log.warn('listener error', { error: e }));
      server = srv;
      const address = srv.address();
      port = typeof address === 'object' && address !== null ? address.port : options.listenPort;
      state = 'started';
      log.debug('listening', { host: options.listenHost, port, peerId: selfId });
      for (const d of dialers.values()) dial(d);
      return { port };
    },

    async stop() {
      if (state === 'stopped') return;
      state = 'stopped';
      for (const d of dialers.values()) clearTimeout(d.timer);
      for (const s of pending) s.destroy();
      const open = [...connections.values(), ...retiring];
      for (const c of open) c.close('STOPPED', 'node stopping', true);
      const srv = server;
      await Promise.all([
        ...open.map((c) => c.whenStreamClosed()),
        srv && new Promise<void>((resolve) => srv.close(() => resolve())),
      ]);
      log.debug('stopped', { peerId: selfId });
    },

    broadcast(message) {
      const plaintext = encodePeerMessage(message, maxPlaintext);
      for (const c of [...connections.values()]) c.send(plaintext);
    },

    send(peerId, message) {
      const conn = connections.get(peerId);
      if (conn === undefined) return false;
      return conn.send(encodePeerMessage(message, maxPlaintext));
    },

    onMessage(handler) {
      messageHandler = handler;
    },

    onPeerEvent(handler) {
      eventHandlers.push(handler);
    },

    addPeer(endpoint) {
      addDialer(endpoint);
    },

    penalize(peerId, reason) {
      bans.ban(peerId, now() + options.banMs);
      log.debug('peer penalized', { peerId, reason });
      connections.get(peerId)?.close('PENALIZED', reason);
      for (const c of [...retiring]) if (c.peerId === peerId) c.close('PENALIZED', reason);
    },

    peers(): PeerInfo[] {
      return [...connections.values()].map((c) => c.info());
    },
  };
}
