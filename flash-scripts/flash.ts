/**
 * The host side of the flashing protocol (docs/flashing.md): `flashImage` sends a signed image to a board
 * over any Duplex (the real SerialPort in `iosnet flash`, an in-memory pair in unit tests). It resumes
 * where the board says it stands (INFO / BEGIN_OK carry the bytes it holds), sends DATA in a go-back-N
 * window, checks the slot's hash the board reports in END_OK against its own, and boots it.
 */
import type { Duplex } from 'node:stream';
import { deflateRawSync } from 'node:zlib';
import { equalBytes, toHex } from '../core/bytes.js';
import type { Crypto } from '../core/crypto.js';
import {
  type BoardInfo,
  DEFAULT_CHUNK_BYTES,
  DEFAULT_WINDOW,
  decodeErrorBody,
  decodeInfo,
  decodeSlotText,
  decodeU32,
  ENCODING_DEFLATE,
  encodeBegin,
  FlashError,
  type Frame,
  MessageType,
  SLIP_END,
} from '../core/serial-protocol.js';
import { decodeImageView, ImageError, imageSigningMessage } from './image-format.js';
import { encodeDataFrame, encodeFrame, FrameDecoder } from './native-framing.js';

export interface FlashProgress {
  readonly sentBytes: number;
  readonly totalBytes: number;
  /** Where this run started (bytes the board already held). */
  readonly resumedFrom: number;
}

export interface FlashOptions {
  readonly port: Duplex;
  readonly image: Uint8Array;
  /** The board the operator says is on the port: refused unless image and board both agree. */
  readonly boardId: string;
  readonly crypto: Crypto;
  readonly onProgress?: (p: FlashProgress) => void;
  readonly onConsole?: (text: string) => void;
  readonly signal?: AbortSignal;
  readonly boot?: boolean;
  /** Per request; DATA is retransmitted after ackTimeoutMs without progress. */
  readonly timeoutMs?: number;
  readonly ackTimeoutMs?: number;
  /** Gives up (FLASH_NO_ANSWER) after this long without an acknowledged byte; default 15 s. */
  readonly stallTimeoutMs?: number;
  readonly bootTimeoutMs?: number;
  /**
   * The line's baud rate, when it has one (a UART; `iosnet flash` gives the board's): every wait for an
   * answer is extended by the time the bytes already written still need on the line (10 bits a byte, 8N1),
   * else a window of 32 KiB chunks at 115,200 baud (~2.8 s each) ran into the 1 s ACK timeout, and the
   * host resent the window again and again (measured on an emulated 115,200-baud line: 8x the bytes sent,
   * or FLASH_NO_ANSWER). Unset (a pty, an in-memory pair): no allowance.
   */
  readonly baudRate?: number;
  /**
   * Chunks go as DATA_Z, raw deflate at this level (1-9), to a board that accepts it (INFO_OK `encodings`),
   * each one that shrinks; false: plain DATA only. Default: compressionLevel(baudRate).
   */
  readonly compression?: number | false;
}

/**
 * zlib level 1 where the line's rate is unknown (a pty, USB CDC): there the host's CPU, not the line, limits
 * a session; level 1 deflates the 393 KB device image 2.7x in ~3.4 ms of CPU (a loop; ~6.5 ms in a session
 * on the bench's 2 shared cores), level 6 3.0x in ~9 ms (measured).
 */
export const DEFAULT_COMPRESSION_LEVEL = 1;
/**
 * zlib's default level 6 on a line with a baud rate: a UART carries at most a few hundred KB/s (921,600 baud:
 * 92 KB/s), far below what level 6 deflates (~40 MB/s here), so every byte it saves is line time saved
 * (the device image: 130,806 bytes on the line instead of 144,207 at level 1, -9%; level 9 gave no fewer).
 */
export const LINE_COMPRESSION_LEVEL = 6;

/** The deflate level `iosnet flash` uses on a line of `baudRate` (undefined: a pty or an unknown rate). */
export function compressionLevel(baudRate: number | undefined): number {
  return baudRate ? LINE_COMPRESSION_LEVEL : DEFAULT_COMPRESSION_LEVEL;
}

export interface FlashResult {
  readonly info: BoardInfo;
  readonly resumedFrom: number;
  readonly bytes: number;
  readonly ms: number;
  readonly slot: string;
  /** Set when booted: the version the board now runs. */
  readonly bootedVersion?: string;
  /** Bytes of chunk data this session put on the line (deflated where DATA_Z), retransmissions included. */
  readonly dataBytesSent: number;
}

/** Frames from the port, awaited one at a time; CONSOLE frames go to onConsole, never to a waiter. */
export class FrameLink {
  private readonly decoder = new FrameDecoder();
  private queue: Frame[] = [];
  private waiter: ((f: Frame) => void) | undefined;
  private readonly onData = (chunk: Uint8Array) =>
    this.decoder.push(
      chunk,
      (f) => {
        if (f.type === MessageType.console) return this.onConsole?.(new TextDecoder().decode(f.body));
        if (this.waiter) {
          const w = this.waiter;
          this.waiter = undefined;
          w(f);
        } else this.queue.push(f);
      },
      () => {},
    );

  /** When the line will have carried everything written so far (ms, Date.now() clock; with a baud rate). */
  private lineFreeAt = 0;

  constructor(
    private readonly port: Duplex,
    private readonly onConsole?: (text: string) => void,
    private readonly baudRate?: number,
  ) {
    port.on('data', this.onData);
  }

  send(type: number, body?: Uint8Array): void {
    this.write(encodeFrame(type, body));
  }

  /** Encoded bytes as they are (frames). */
  write(bytes: Uint8Array): void {
    if (this.baudRate) {
      const now = Date.now();
      this.lineFreeAt = Math.max(now, this.lineFreeAt) + (bytes.length * 10_000) / this.baudRate;
    }
    this.port.write(bytes);
  }

  /** Time the line still needs for what was written (0 without a baud rate). */
  lineBusyMs(): number {
    return Math.max(0, Math.ceil(this.lineFreeAt - Date.now()));
  }

  /** The next frame; `timeoutMs` counts from when the line has carried what was written before. */
  next(timeoutMs: number, what: string, signal?: AbortSignal): Promise<Frame> {
    if (signal?.aborted) return Promise.reject(new FlashError('FLASH_ABORTED', 'flashing interrupted'));
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    timeoutMs += this.lineBusyMs();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        signal?.removeEventListener('abort', onAbort);
        reject(
          new FlashError('FLASH_NO_ANSWER', `no answer from the board to ${what} within ${timeoutMs} ms`),
        );
      }, timeoutMs);
      const onAbort = () => {
        clearTimeout(timer);
        this.waiter = undefined;
        reject(new FlashError('FLASH_ABORTED', 'flashing interrupted'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiter = (f) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(f);
      };
    });
  }

  close(): void {
    this.port.off('data', this.onData);
  }
}

/** The reply to a request, or the board's ERROR as a typed error. */
async function expect(link: FrameLink, type: number, what: string, timeoutMs: number, signal?: AbortSignal) {
  for (;;) {
    const f = await link.next(timeoutMs, what, signal);
    if (f.type === type) return f;
    if (f.type === MessageType.error) {
      const { code, message } = decodeErrorBody(f.body);
      const mapped =
        code === 'IMAGE_WRONG_BOARD'
          ? 'FLASH_WRONG_BOARD'
          : code === 'FLASH_BOOT_FAILED'
            ? code
            : 'FLASH_REFUSED';
      throw new FlashError(mapped, `board refused ${what}: ${code}: ${message}`, { boardCode: code });
    }
    // Stale ACK/NAK of an earlier window: skip.
  }
}

export async function flashImage(opts: FlashOptions): Promise<FlashResult> {
  const { image } = opts;
  const timeoutMs = opts.timeoutMs ?? 3_000;
  const started = Date.now();
  const link = new FrameLink(opts.port, opts.onConsole, opts.baudRate);
  let frames: DataFrames | undefined;
  try {
    // INFO changes nothing on a board, so it goes out before the local checks, which run while it travels
    // (~1.3 ms of checks against a ~2.5 ms round trip here, measured). Nothing else is sent for an image
    // that cannot be right. A leading END flushes whatever half frame the board's decoder holds from an
    // interrupted session; it goes in the same write as INFO (apart, the board took them in two reads, each
    // a thread-pool job and an event-loop turn: INFO arrived ~1-5 ms later, measured).
    link.write(withLeadingEnd(encodeFrame(MessageType.info)));
    const { decoded, imageSha256 } = checkImage(opts);
    let info: BoardInfo | undefined;
    // Chunks are deflated from the moment INFO is out, in case the board accepts DATA_Z (unused if it does
    // not or asks for smaller chunks).
    const wanted = opts.compression ?? compressionLevel(opts.baudRate);
    if (wanted !== false) frames = new DataFrames(image, DEFAULT_CHUNK_BYTES, wanted);
    for (let attempt = 0; !info; attempt++) {
      if (attempt > 0) link.send(MessageType.info);
      else frames?.deflateAhead();
      try {
        info = decodeInfo((await expect(link, MessageType.infoOk, 'INFO', timeoutMs, opts.signal)).body);
      } catch (err) {
        if (!(err instanceof FlashError && err.code === 'FLASH_NO_ANSWER') || attempt >= 2) throw err;
      }
    }
    if (info.boardId !== opts.boardId) {
      throw new FlashError(
        'FLASH_WRONG_BOARD',
        `the board on the port is '${info.boardId}', not '${opts.boardId}'`,
      );
    }
    if (image.length > info.slotBytes) {
      throw new ImageError(
        'IMAGE_TOO_LARGE',
        `image is ${image.length} bytes, the board's slot holds ${info.slotBytes}`,
      );
    }
    const begin = encodeFrame(
      MessageType.begin,
      encodeBegin({
        imageSize: image.length,
        imageSha256,
        manifest: decoded.manifestBytes,
        signature: decoded.signature,
      }),
    );
    const chunk = Math.max(1, Math.min(info.maxChunkBytes, DEFAULT_CHUNK_BYTES));
    const level = wanted !== false && (info.encodings & ENCODING_DEFLATE) !== 0 ? wanted : undefined;
    // The chunks deflated while INFO travelled serve only a board that takes DATA_Z in chunks of that size.
    if (frames?.chunk !== chunk || level === undefined) {
      frames?.stop();
      frames = new DataFrames(image, chunk, level);
    }
    const { resumedFrom, endOk } = await sendData(
      link,
      opts,
      info,
      frames,
      begin,
      expectedResume(info, image.length, imageSha256),
      () =>
        expect(link, MessageType.beginOk, 'BEGIN', timeoutMs, opts.signal).then((f) =>
          decodeU32(f.body, 'BEGIN_OK'),
        ),
      Math.max(timeoutMs, 10_000),
    );
    // END_OK names the slot and the sha256 of the whole image the board wrote there (protocol v2: it
    // replaces the VERIFY round trip of v1).
    const verified = decodeSlotText(endOk.body, 'END_OK');
    if (verified.text !== toHex(imageSha256)) {
      throw new FlashError(
        'FLASH_VERIFY_FAILED',
        `slot ${verified.slot} hashes to ${verified.text}, not the image's`,
      );
    }
    const result = {
      info,
      resumedFrom,
      bytes: image.length,
      slot: verified.slot,
      dataBytesSent: frames.sentBytes,
    };
    if (opts.boot === false) return { ...result, ms: Date.now() - started };
    link.send(MessageType.boot);
    const booted = decodeSlotText(
      (await expect(link, MessageType.bootOk, 'BOOT', opts.bootTimeoutMs ?? 180_000, opts.signal)).body,
      'boot',
    );
    return { ...result, slot: booted.slot, bootedVersion: booted.text, ms: Date.now() - started };
  } finally {
    frames?.stop();
    link.close();
  }
}

const END_FRAME = encodeFrame(MessageType.end);

function withLeadingEnd(frame: Uint8Array): Uint8Array {
  const out = new Uint8Array(frame.length + 1);
  out[0] = SLIP_END;
  out.set(frame, 1);
  return out;
}

/**
 * The host's own checks of the image (docs/flashing.md §4, rule 1): for the board the operator named, signed
 * by its manifest's signer, its payload the one the manifest describes. Returns the decoded image and the
 * sha256 of the whole file.
 */
function checkImage(opts: FlashOptions) {
  const { crypto, image } = opts;
  const decoded = decodeImageView(image);
  if (decoded.manifest.boardId !== opts.boardId) {
    throw new FlashError(
      'FLASH_WRONG_BOARD',
      `image is for board '${decoded.manifest.boardId}', not '${opts.boardId}'`,
    );
  }
  if (
    !crypto.ed25519.verify(
      decoded.signature,
      imageSigningMessage(crypto, decoded.manifestBytes),
      decoded.manifest.signer,
    )
  ) {
    throw new ImageError('IMAGE_BAD_SIGNATURE', 'image manifest signature does not verify');
  }
  if (
    decoded.payload.length !== decoded.manifest.size ||
    !equalBytes(crypto.sha256(decoded.payload), decoded.manifest.sha256)
  ) {
    throw new ImageError(
      'IMAGE_HASH_MISMATCH',
      'image payload does not match its manifest (corrupted file?)',
    );
  }
  const imageSha256 = crypto.sha256(image);
  return { decoded, imageSha256 };
}

/**
 * The DATA frames of one image in `chunk`-byte chunks from any offset: DATA_Z (raw deflate at `level`) for a
 * chunk that shrinks when the board accepts it (`level` set), else DATA. Deflated chunks are kept by offset,
 * so a retransmission is not compressed again.
 */
class DataFrames {
  /** Chunk bytes put on the line (deflated or not), retransmissions included. */
  sentBytes = 0;
  private readonly deflated = new Map<number, Uint8Array | null>();
  private deflating = false;
  private listener: (() => void) | undefined;

  constructor(
    private readonly image: Uint8Array,
    readonly chunk: number,
    private readonly level: number | undefined,
  ) {}

  /**
   * Deflates the chunks from offset 0 ahead of need, one per event-loop turn (~0.3 ms each), so the line's
   * frames and answers keep their turns in between. On the thread pool (zlib's async API) the same work cost
   * the host ~5 ms more CPU per session (a zlib stream and a thread hand-off per chunk) and the session
   * 1-2 ms more, in sessions alternating both in one run (measured): on 2 shared cores the host's CPU is
   * taken from the board's.
   */
  deflateAhead(): void {
    if (this.level === undefined) return;
    const level = this.level;
    this.deflating = true;
    let offset = 0;
    const step = (): void => {
      if (!this.deflating) return;
      while (offset < this.image.length && this.deflated.has(offset)) offset += this.chunk;
      if (offset >= this.image.length) this.deflating = false;
      else {
        this.keep(offset, deflateRawSync(this.chunkAt(offset), { level }));
        offset += this.chunk;
        setImmediate(step);
      }
      this.notify();
    };
    setImmediate(step);
  }

  /** Ends deflateAhead (the session is over). */
  stop(): void {
    this.deflating = false;
    this.listener = undefined;
  }

  /** Whether frame(offset) is ready without waiting for deflateAhead. */
  ready(offset: number): boolean {
    return this.level === undefined || !this.deflating || this.deflated.has(offset);
  }

  /** Calls `f` once, when deflateAhead has made progress. */
  whenReady(f: () => void): void {
    this.listener = f;
  }

  private notify(): void {
    const f = this.listener;
    this.listener = undefined;
    f?.();
  }

  /** The frame for the chunk at `offset`. */
  frame(offset: number): Uint8Array {
    const z = this.level === undefined ? null : this.deflate(offset, this.level);
    const bytes = z ?? this.chunkAt(offset);
    this.sentBytes += bytes.length;
    return z ? encodeDataFrame(offset, z, MessageType.dataZ) : encodeDataFrame(offset, bytes);
  }

  /** The image bytes of the chunk at `offset` (to min(offset + chunk, image size)). */
  private chunkAt(offset: number): Uint8Array {
    return this.image.subarray(offset, Math.min(offset + this.chunk, this.image.length));
  }

  /** Records a chunk's deflate output: null when it does not shrink the chunk. */
  private keep(offset: number, out: Uint8Array): Uint8Array | null {
    const z = out.length < this.chunkAt(offset).length ? out : null;
    this.deflated.set(offset, z);
    return z;
  }

  /** The chunk's raw deflate (deflateAhead's, else made now), or null when it does not shrink. */
  private deflate(offset: number, level: number): Uint8Array | null {
    const z = this.deflated.get(offset);
    return z !== undefined ? z : this.keep(offset, deflateRawSync(this.chunkAt(offset), { level }));
  }
}

/**
 * Where the board will resume this image, from INFO_OK (docs/flashing.md §5, "DATA behind BEGIN"): the bytes
 * it holds of this same image, else 0. Undefined when it holds part of another image: BEGIN replaces that
 * transfer, and DATA must not reach the board before it has (a board that refuses BEGIN keeps it).
 */
function expectedResume(info: BoardInfo, size: number, imageSha256: Uint8Array): number | undefined {
  const s = info.staged;
  if (!s || s.haveBytes >= s.imageSize) return 0;
  if (s.imageSize === size && equalBytes(s.imageSha256, imageSha256)) return s.haveBytes;
  return undefined;
}

/**
 * Go-back-N: up to `window` chunks in flight; ACK n = the board holds [0, n); NAK n = resend from n. Frames are
 * written as soon as the window allows, never waiting for each ACK. The first window goes out right behind
 * BEGIN, from `expected`, without waiting for BEGIN_OK (a round trip, ~2-3 ms of a ~40 ms session here,
 * measured); BEGIN_OK's offset is what counts: when it differs, the host goes back to it as on a NAK.
 * END goes out right behind the last chunk once BEGIN_OK is in (docs/flashing.md §5, "END behind the
 * data"), not after the last ACK: the board answers in order, so END_OK comes once the image is checked and
 * durable, half a round trip sooner (~1 ms here, measured); an END that met a gap is answered
 * FLASH_INCOMPLETE and goes out again behind the resent chunks. Resolves with BEGIN_OK's offset and END_OK.
 */
async function sendData(
  link: FrameLink,
  opts: FlashOptions,
  info: BoardInfo,
  frames: DataFrames,
  begin: Uint8Array,
  expected: number | undefined,
  beginOk: () => Promise<number>,
  endTimeoutMs: number,
): Promise<{ readonly resumedFrom: number; readonly endOk: Frame }> {
  const { image } = opts;
  const { chunk } = frames;
  const window = Math.max(1, Math.min(info.window, DEFAULT_WINDOW));
  const ackTimeoutMs = opts.ackTimeoutMs ?? 1_000;
  // Time-based, not a retransmit count: on a loaded machine (load average 11 on 2 cores, measured) the
  // board can be starved for seconds without anything being wrong with the line.
  const stallTimeoutMs = opts.stallTimeoutMs ?? 15_000;
  let acked = expected ?? 0;
  let next = acked;
  /** END may go out (BEGIN_OK is in); one is out and not yet answered (each END gets one answer). */
  let endAllowed = false;
  let endPending = false;
  // What one pump pass sends goes in one write: each write is a thread-pool job on the host, and frames
  // written apart reached the board in more, smaller reads (measured).
  const out: Uint8Array[] = [];
  const flush = () => {
    if (out.length > 0) link.write(out.length === 1 ? out[0]! : Buffer.concat(out));
    out.length = 0;
  };
  const pump = () => {
    while (next < image.length && next - acked < window * chunk) {
      if (!frames.ready(next)) {
        flush();
        return frames.whenReady(pump);
      }
      out.push(frames.frame(next));
      next = Math.min(next + chunk, image.length);
    }
    if (endAllowed && !endPending && next === image.length) {
      out.push(END_FRAME);
      endPending = true;
    }
    flush();
  };
  out.push(begin);
  if (expected !== undefined) pump();
  else flush();
  // The board answers in order: anything before BEGIN_OK (stale ACKs of an earlier session) is skipped.
  const from = await beginOk();
  if (from !== expected) {
    acked = from;
    next = from;
  }
  let lastProgress = Date.now();
  const progress = () => opts.onProgress?.({ sentBytes: acked, totalBytes: image.length, resumedFrom: from });
  progress();
  endAllowed = true;
  pump();
  for (;;) {
    const what = acked < image.length ? 'DATA' : 'END';
    let f: Frame;
    try {
      f = await link.next(acked < image.length ? ackTimeoutMs : endTimeoutMs, what, opts.signal);
    } catch (err) {
      if (!(err instanceof FlashError && err.code === 'FLASH_NO_ANSWER') || acked === image.length) throw err;
      if (Date.now() - lastProgress > stallTimeoutMs + link.lineBusyMs()) {
        throw new FlashError('FLASH_NO_ANSWER', `the board stopped acknowledging data at byte ${acked}`);
      }
      next = acked;
      pump();
      continue;
    }
    if (f.type === MessageType.ack) {
      const n = decodeU32(f.body, 'ACK');
      if (n > acked && n <= image.length) {
        acked = n;
        lastProgress = Date.now();
        progress();
      }
    } else if (f.type === MessageType.nak) {
      const n = decodeU32(f.body, 'NAK');
      if (n >= acked && n <= image.length) {
        acked = n;
        next = n;
      }
    } else if (f.type === MessageType.endOk && endPending) {
      // The board holds the whole image, checked and durable, whatever ACKs the line lost on the way.
      if (acked < image.length) {
        acked = image.length;
        progress();
      }
      return { resumedFrom: from, endOk: f };
    } else if (f.type === MessageType.error) {
      const { code, message } = decodeErrorBody(f.body);
      if (!(code === 'FLASH_INCOMPLETE' && endPending)) {
        throw new FlashError('FLASH_REFUSED', `board refused ${what}: ${code}: ${message}`, {
          boardCode: code,
        });
      }
      // The END behind the last chunk met a gap: a lost frame, perhaps the last one, which no later frame
      // makes the board NAK. Back to the last acknowledged byte (the board acknowledges what it holds
      // again), then END once more.
      endPending = false;
      next = acked;
    }
    pump();
  }
}
