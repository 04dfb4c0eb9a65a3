/**
 * A hand-driven peer on a raw node:net socket, for crafting what an honest node never sends: hellos with
 * chosen fields, bad signatures, and after a valid handshake any plaintext, any ciphertext, or any bytes.
 * It is built from the protocol's exported building blocks (hello codec, transcript, key schedule, frame
 * sealer), not from performHandshake, so each step can be bent.
 */
import { connect, type Socket } from 'node:net';
import { CborWriter } from '../../../../core/cbor.js';
import { HANDSHAKE_VERSION } from '../../../../gateway/network/constants.js';
import {
  FrameOpener,
  FrameReader,
  FrameSealer,
  frameHeader,
  plainFrame,
} from '../../../../gateway/network/framing.js';
import {
  decodeAuth,
  decodeHello,
  deriveSessionKeys,
  encodeAuth,
  encodeHello,
  generateEphemeralKey,
  type HandshakeIdentity,
  type Hello,
  handshakeSignatureMessage,
  transcriptHash,
  x25519SharedSecret,
} from '../../../../gateway/network/handshake.js';
import type { PeerMessage } from '../../../../gateway/network/interface.js';
import { decodePeerMessage, encodePeerMessage } from '../../../../gateway/network/messages.js';

export interface RawHandshakeOptions {
  /** Fields of our hello to override (wrong chain, someone else's key...). */
  readonly hello?: Partial<Hello>;
  /** Flip a bit of our signature. */
  readonly corruptSignature?: boolean;
}

export class RawPeer {
  readonly socket: Socket;
  /** Resolves when the socket has closed (whoever closed it). */
  readonly closed: Promise<void>;
  readonly received: PeerMessage[] = [];
  private readonly reader = new FrameReader(64 * 1024 * 1024);
  private readonly frames: Buffer[] = [];
  private waiter: (() => void) | undefined;
  private sealer: FrameSealer | undefined;
  private opener: FrameOpener | undefined;
  isClosed = false;
  /** Bytes accepted by socket.write before the socket closed. */
  bytesWritten = 0;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.isClosed = true;
        this.waiter?.();
        resolve();
      }),
    );
    socket.on('data', (chunk: Buffer) => {
      this.reader.push(chunk);
      for (let f = this.reader.next(); f !== undefined; f = this.reader.next()) {
        if (this.opener) this.received.push(decodePeerMessage(this.opener.open(f)));
        else this.frames.push(Buffer.from(f));
      }
      this.waiter?.();
    });
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host });
      socket.once('connect', () => resolve(new RawPeer(socket)));
      socket.once('error', reject);
    });
  }

  /** The next plain (handshake) frame body; rejects if the socket closes first. */
  async nextFrame(timeoutMs = 3000): Promise<Buffer> {
    const end = Date.now() + timeoutMs;
    while (this.frames.length === 0) {
      if (this.isClosed) throw new Error('socket closed');
      if (Date.now() > end) throw new Error('no frame');
      await new Promise<void>((r) => {
        this.waiter = r;
        setTimeout(r, 20);
      });
    }
    return this.frames.shift()!;
  }

  /** Writes bytes as they are. */
  write(bytes: Uint8Array): void {
    if (this.socket.writable) {
      this.bytesWritten += bytes.length;
      this.socket.write(bytes);
    }
  }

  /** Valid handshake as initiator with identity `id`, bent by `opts`. Resolves after our auth is sent. */
  async handshake(id: HandshakeIdentity, opts: RawHandshakeOptions = {}): Promise<void> {
    const ephemeral = generateEphemeralKey();
    const helloI = encodeHello({
      version: HANDSHAKE_VERSION,
      chainId: id.chainId,
      genesisHash: id.genesisHash,
      nodePublicKey: id.nodePublicKey,
      ephemeralPublicKey: ephemeral.publicKey,
      nonce: id.crypto.randomBytes(32),
      ...opts.hello,
    });
    this.write(plainFrame(helloI));
    const helloR = new Uint8Array(await this.nextFrame());
    const authR = new Uint8Array(await this.nextFrame());
    const remote = decodeHello(helloR);
    const message = handshakeSignatureMessage(id.crypto, helloI, helloR, 'responder');
    if (!id.crypto.ed25519.verify(decodeAuth(authR), message, remote.nodePublicKey)) {
      throw new Error('responder signature does not verify');
    }
    const keys = deriveSessionKeys(
      x25519SharedSecret(ephemeral.privateKey, remote.ephemeralPublicKey),
      transcriptHash(id.crypto, helloI, helloR),
    );
    const sig = id.crypto.ed25519.sign(
      handshakeSignatureMessage(id.crypto, helloI, helloR, 'initiator'),
      id.nodeSecretKey,
    );
    if (opts.corruptSignature) sig[10]! ^= 0x01;
    this.write(plainFrame(encodeAuth(sig)));
    this.sealer = new FrameSealer(keys.initiatorToResponder);
    this.opener = new FrameOpener(keys.responderToInitiator);
  }

  /** One encrypted frame of exactly these plaintext bytes. */
  sendPlaintext(plaintext: Uint8Array): void {
    for (const part of this.sealer!.seal(plaintext)) this.write(part);
  }

  sendMessage(m: PeerMessage): void {
    this.sendPlaintext(encodePeerMessage(m));
  }

  /** A correctly sealed frame, then `mutate` applied to its bytes (header || ciphertext || tag). */
  sendSealedMutated(plaintext: Uint8Array, mutate: (frame: Buffer) => void): void {
    const frame = Buffer.concat(this.sealer!.seal(plaintext));
    mutate(frame);
    this.write(frame);
  }

  /** CBOR of an arbitrary array of uints (an unknown message type, a wrong arity...). */
  static cborUints(values: number[]): Uint8Array {
    const w = new CborWriter().array(values.length);
    for (const v of values) w.uint(v);
    return w.finish();
  }

  static header(length: number): Buffer {
    return frameHeader(length);
  }

  destroy(): void {
    this.socket.destroy();
  }
}
