/**
 * flashImage against the emulator's protocol handler and flash store over an in-memory "serial line":
 * a clean transfer, a lossy line (dropped and corrupted frames), an interrupted transfer resumed, a board
 * power loss resumed from what it persisted, and each refusal.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import { deflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BoardProtocol, type BootResult } from '../../../boards/emulator/board-protocol.js';
import { readBootEnvBody } from '../../../boards/emulator/boot-env.js';
import { FlashStore, PERSIST_EVERY_BYTES } from '../../../boards/emulator/flash-store.js';
import { getBoard } from '../../../boards/index.js';
import { toHex } from '../../../core/bytes.js';
import {
  DEFAULT_CHUNK_BYTES,
  decodeData,
  decodeErrorBody,
  encodeBegin,
  encodeData,
  encodeFrame,
  encodeInfo,
  MessageType,
  SLIP_END,
  SlipDecoder,
} from '../../../core/serial-protocol.js';
import {
  compressionLevel,
  DEFAULT_COMPRESSION_LEVEL,
  type FlashOptions,
  flashImage,
  LINE_COMPRESSION_LEVEL,
} from '../../../flash-scripts/flash.js';
import { buildImage } from '../../../flash-scripts/image.js';
import { decodeImageView, decodeManifest } from '../../../flash-scripts/image-format.js';
import { testCrypto as crypto } from '../../helpers/crypto.js';
import {
  chunkBytesOnce,
  otherReleaseKey,
  releaseKey,
  removeTinyEntries,
  testAnchor,
  tinyEntry,
} from '../../helpers/flash.js';

const board = getBoard('emu-x64');
let image: Uint8Array;
let foreignImage: Uint8Array;
let armImage: Uint8Array;
const dirs: string[] = [];

beforeAll(async () => {
  const entry = tinyEntry({ padBytes: 300_000 });
  const base = { anchor: testAnchor(), version: '2.0.0', crypto, entry };
  image = (await buildImage({ ...base, board, releaseSecretKey: releaseKey.secretKey })).bytes;
  foreignImage = (await buildImage({ ...base, board, releaseSecretKey: otherReleaseKey.secretKey })).bytes;
  armImage = (
    await buildImage({ ...base, board: getBoard('emu-arm64'), releaseSecretKey: releaseKey.secretKey })
  ).bytes;
}, 60_000);

afterAll(() => {
  removeTinyEntries();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/**
 * A host write cut into its frames (END ... END) as a lossy line damages them one by one (the host writes
 * several frames at once); a lone END (an empty frame) is a piece of its own.
 */
function framesOf(bytes: Uint8Array): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  let start = -1;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== SLIP_END) continue;
    if (start < 0) start = i;
    else if (i === start + 1) {
      pieces.push(bytes.subarray(start, i));
      start = i;
    } else {
      pieces.push(bytes.subarray(start, i + 1));
      start = -1;
    }
  }
  if (start >= 0) pieces.push(bytes.subarray(start));
  return pieces;
}

/**
 * Host and board ends of a line; `filter` sees each frame of the host's writes and may drop or alter it.
 * With `bytesPerSec` the host's bytes reach the board at that rate, as on a UART (its driver takes the write
 * at once, the line carries it later).
 */
function line(filter?: (bytes: Uint8Array) => Uint8Array | null, bytesPerSec?: number) {
  let boardEnd: Duplex;
  let lineFreeAt = 0;
  const deliver = (out: Uint8Array) => {
    if (!bytesPerSec) return void setImmediate(() => boardEnd.push(out));
    const now = performance.now();
    lineFreeAt = Math.max(now, lineFreeAt) + (out.length * 1000) / bytesPerSec;
    setTimeout(() => boardEnd.push(out), lineFreeAt - now);
  };
  const hostEnd = new Duplex({
    read() {},
    write(chunk: Uint8Array, _enc, cb) {
      const bytes = new Uint8Array(chunk);
      for (const frame of filter ? framesOf(bytes) : [bytes]) {
        const out = filter ? filter(frame.slice()) : frame;
        if (out) deliver(out);
      }
      cb();
    },
  });
  boardEnd = new Duplex({
    read() {},
    write(chunk: Uint8Array, _enc, cb) {
      setImmediate(() => hostEnd.push(chunk));
      cb();
    },
  });
  return { hostEnd, boardEnd };
}

/** The one frame in a piece of a host write. */
function decodeOne(bytes: Uint8Array) {
  const frames: { type: number; body: Uint8Array }[] = [];
  new SlipDecoder().push(
    bytes,
    (f) => frames.push({ type: f.type, body: f.body.slice() }),
    () => {},
  );
  return frames[0] ?? { type: -1, body: new Uint8Array(0) };
}

/** A frame of a host write that is DATA or DATA_Z (END, then the type byte). */
const isChunkFrame = (bytes: Uint8Array) => bytes[1] === MessageType.data || bytes[1] === MessageType.dataZ;

function newFlashDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'iosnet-flash-unit-'));
  dirs.push(d);
  return d;
}

/** `window`: what the board advertises; 2 (64 KiB in flight) lets a test stop a transfer halfway. */
function fakeBoard(
  dir: string,
  filter?: (bytes: Uint8Array) => Uint8Array | null,
  window?: number,
  encodings?: number,
  lineBytesPerSec?: number,
  persistAfterMs?: number,
) {
  const store = FlashStore.open(
    dir,
    board.slotBytes,
    { boardId: board.id, releaseKey: toHex(releaseKey.publicKey), hardwareSerial: 'SN-1' },
    persistAfterMs,
  );
  const boots: string[] = [];
  const trialBoot = async (slot: 'a' | 'b'): Promise<BootResult> => {
    const s = store.env.staging!;
    store.env.slots[slot] = {
      size: s.imageSize,
      sha256: s.imageSha256,
      version: decodeManifest(Buffer.from(s.manifest, 'hex')).version,
    };
    store.env.staging = null;
    store.env.active = slot;
    store.persist();
    boots.push(slot);
    return { ok: true };
  };
  const protocol = new BoardProtocol({
    store,
    crypto,
    trialBoot,
    ...(window ? { window } : {}),
    ...(encodings !== undefined ? { encodings } : {}),
  });
  const { hostEnd, boardEnd } = line(filter, lineBytesPerSec);
  protocol.attach(boardEnd);
  /** The board loses power: it takes nothing more from the line, and its flash keeps what was synced. */
  const powerCut = () => {
    boardEnd.removeAllListeners('data');
    store.close();
  };
  return { store, protocol, hostEnd, boots, powerCut };
}

const flash = (port: Duplex, over: Partial<FlashOptions> = {}) =>
  flashImage({
    port,
    image,
    boardId: board.id,
    crypto,
    ackTimeoutMs: 200,
    timeoutMs: 1000,
    stallTimeoutMs: 5000,
    ...over,
  });

describe('flashImage over the protocol', () => {
  it('flashes, verifies by hash and boots into the inactive slot', async () => {
    const b = fakeBoard(newFlashDir());
    const progress: number[] = [];
    const r = await flash(b.hostEnd, { onProgress: (p) => progress.push(p.sentBytes) });
    expect(r).toMatchObject({ resumedFrom: 0, bytes: image.length, slot: 'a', bootedVersion: '2.0.0' });
    expect(progress.at(-1)).toBe(image.length);
    expect(b.store.read('a', image.length)).toEqual(image);
    // The next image goes to the other slot; the running one is never overwritten.
    const r2 = await flash(b.hostEnd);
    expect(r2.slot).toBe('b');
    expect(b.boots).toEqual(['a', 'b']);
    b.store.close();
  });

  it('waits for what a slow line still carries before it resends: no retransmission at its baud rate', async () => {
    // 400,000 bytes/s (4,000,000 baud, 8N1): a 32 KiB chunk is ~82 ms on the line, the window ~650 ms,
    // against a 30 ms ACK timeout (as 2.8 s chunks at 115,200 baud against the default 1 s).
    const b = fakeBoard(newFlashDir(), undefined, undefined, undefined, 400_000);
    const r = await flash(b.hostEnd, {
      boot: false,
      compression: false,
      baudRate: 4_000_000,
      ackTimeoutMs: 30,
    });
    expect(r.dataBytesSent).toBe(image.length);
    expect(b.store.read('a', image.length)).toEqual(image);
    b.store.close();
  });

  it.each([
    ['DATA_Z', undefined],
    ['DATA', false],
  ] as const)(
    'survives a lossy line: dropped and corrupted %s frames are resent (go-back-N)',
    async (_, compression) => {
      // Losses from a seeded generator, not a fixed period: a period that divides the frames of a resend
      // (e.g. every 5th frame, 5 frames from the gap to the end) drops the same frame on every pass, and no
      // go-back-N host gets past such a line. The first ten draws: 2 drops, 3 corruptions.
      let seed = 3;
      const draw = () => {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        return seed / 2 ** 32;
      };
      let dropped = 0;
      let corrupted = 0;
      const b = fakeBoard(newFlashDir(), (bytes) => {
        // Frames start with END then the type byte; only chunk frames are damaged.
        if (!isChunkFrame(bytes)) return bytes;
        const r = draw();
        if (r < 0.15) {
          dropped++;
          return null;
        }
        if (r < 0.28) {
          corrupted++;
          const c = bytes.slice();
          c[40] = c[40] === SLIP_END ? 1 : c[40]! ^ 0x10;
          return c;
        }
        return bytes;
      });
      const r = await flash(b.hostEnd, { boot: false, compression });
      expect(dropped).toBeGreaterThan(1);
      expect(corrupted).toBeGreaterThan(1);
      expect(r.resumedFrom).toBe(0);
      expect(b.store.env.staging).toMatchObject({ complete: true, have: image.length });
      expect(b.store.read('a', image.length)).toEqual(image);
      b.store.close();
    },
  );

  it('deflates chunks for a board that offers DATA_Z, and sends plain DATA to one that does not or when told', async () => {
    const types = new Set<number>();
    const watch = (bytes: Uint8Array) => {
      if (isChunkFrame(bytes)) types.add(bytes[1]!);
      return bytes;
    };
    const z = fakeBoard(newFlashDir(), watch);
    const rz = await flash(z.hostEnd, { boot: false });
    expect(types).toEqual(new Set([MessageType.dataZ]));
    // The test image's padding is random text: deflate takes it well below its size.
    expect(rz.dataBytesSent).toBeLessThan(0.9 * image.length);
    expect(z.store.read('a', image.length)).toEqual(image);
    z.store.close();
    for (const [encodings, compression] of [
      [0, undefined],
      [undefined, false],
    ] as const) {
      types.clear();
      const p = fakeBoard(newFlashDir(), watch, undefined, encodings);
      const rp = await flash(p.hostEnd, { boot: false, compression });
      expect(types).toEqual(new Set([MessageType.data]));
      expect(rp.dataBytesSent).toBe(image.length);
      expect(p.store.read('a', image.length)).toEqual(image);
      p.store.close();
    }
  });

  it('deflates at level 1 where the line rate is unknown and at level 6 on a line with a baud rate', async () => {
    expect(compressionLevel(undefined)).toBe(DEFAULT_COMPRESSION_LEVEL);
    expect(compressionLevel(115_200)).toBe(LINE_COMPRESSION_LEVEL);
    const once = (level: number) => chunkBytesOnce(image, level);
    expect(once(LINE_COMPRESSION_LEVEL)).toBeLessThan(once(DEFAULT_COMPRESSION_LEVEL));
    for (const [baudRate, level] of [
      [undefined, DEFAULT_COMPRESSION_LEVEL],
      [4_000_000, LINE_COMPRESSION_LEVEL],
    ] as const) {
      const b = fakeBoard(newFlashDir());
      const r = await flash(b.hostEnd, { boot: false, ...(baudRate ? { baudRate } : {}) });
      expect(r.dataBytesSent).toBe(once(level));
      expect(b.store.read('a', image.length)).toEqual(image);
      b.store.close();
    }
    // An explicit level wins over the line's.
    const b = fakeBoard(newFlashDir());
    const r = await flash(b.hostEnd, { boot: false, baudRate: 4_000_000, compression: 1 });
    expect(r.dataBytesSent).toBe(once(1));
    b.store.close();
  });

  it('refuses a DATA_Z that is no raw deflate of at most one chunk, and keeps nothing of it', async () => {
    const b = fakeBoard(newFlashDir());
    const answers: { type: number; code?: string }[] = [];
    const decoder = new SlipDecoder();
    b.hostEnd.on('data', (c: Uint8Array) =>
      decoder.push(
        c,
        (f) =>
          answers.push(
            f.type === MessageType.error
              ? { type: f.type, code: decodeErrorBody(f.body).code }
              : { type: f.type },
          ),
        () => {},
      ),
    );
    const v = decodeImageView(image);
    const begin = encodeBegin({
      imageSize: image.length,
      imageSha256: crypto.sha256(image),
      manifest: v.manifestBytes,
      signature: v.signature,
    });
    const first = image.subarray(0, DEFAULT_CHUNK_BYTES);
    const good = deflateRawSync(first);
    const bad = [
      deflateRawSync(new Uint8Array(DEFAULT_CHUNK_BYTES + 1)), // inflates past one chunk (a bomb, in small)
      good.subarray(0, good.length - 3), // truncated
      Uint8Array.from([...good, 0, 1, 2]), // bytes after the stream
      deflateRawSync(new Uint8Array(0)), // nothing
      Uint8Array.of(0xff, 0xff, 0xff), // not deflate
    ];
    b.hostEnd.write(encodeFrame(MessageType.begin, begin));
    for (const body of bad) b.hostEnd.write(encodeFrame(MessageType.dataZ, encodeData(0, body)));
    b.hostEnd.write(encodeFrame(MessageType.dataZ, encodeData(0, good)));
    await vi.waitFor(() => expect(answers).toHaveLength(2 + bad.length), { timeout: 5000 });
    expect(answers).toEqual([
      { type: MessageType.beginOk },
      ...bad.map(() => ({ type: MessageType.error, code: 'FLASH_FRAME_INVALID' })),
      { type: MessageType.ack },
    ]);
    // Only the good chunk was taken.
    expect(b.store.env.staging!.have).toBe(DEFAULT_CHUNK_BYTES);
    expect(b.store.read('a', DEFAULT_CHUNK_BYTES)).toEqual(first);
    b.store.close();
  });

  it('sends END behind the last chunk, and again after resending a last chunk the line lost', async () => {
    const lastOffset = Math.floor((image.length - 1) / DEFAULT_CHUNK_BYTES) * DEFAULT_CHUNK_BYTES;
    let droppedLast = false;
    let ends = 0;
    const order: string[] = [];
    const b = fakeBoard(newFlashDir(), (bytes) => {
      const frame = decodeOne(bytes);
      if (frame.type === MessageType.end) {
        ends++;
        order.push('END');
      }
      if (frame.type !== MessageType.data && frame.type !== MessageType.dataZ) return bytes;
      const { offset } = decodeData(frame.body);
      order.push(`@${offset}`);
      // The last chunk, once: no later frame makes the board NAK the gap, so END is what finds it.
      if (offset === lastOffset && !droppedLast) {
        droppedLast = true;
        return null;
      }
      return bytes;
    });
    const r = await flash(b.hostEnd, { boot: false });
    expect(r.bytes).toBe(image.length);
    expect(droppedLast).toBe(true);
    expect(ends).toBe(2);
    // The first END right behind the last chunk, before any wait for its ACK; the second behind its resend.
    expect(order.indexOf('END')).toBe(order.indexOf(`@${lastOffset}`) + 1);
    expect(order.at(-1)).toBe('END');
    expect(order.at(-2)).toBe(`@${lastOffset}`);
    expect(b.store.read('a', image.length)).toEqual(image);
    b.store.close();
  }, 10_000);

  it('acknowledges DATA sent twice, also after the image is complete (a retransmission crossing the last ACK)', async () => {
    const b = fakeBoard(newFlashDir(), (bytes) => {
      if (!isChunkFrame(bytes)) return bytes;
      const twice = new Uint8Array(bytes.length * 2);
      twice.set(bytes);
      twice.set(bytes, bytes.length);
      return twice;
    });
    const r = await flash(b.hostEnd, { boot: false });
    expect(r).toMatchObject({ resumedFrom: 0, slot: 'a' });
    expect(b.store.env.staging).toMatchObject({ complete: true, have: image.length });
    b.store.close();
  });

  it('resumes an interrupted transfer from what the board holds', async () => {
    const b = fakeBoard(newFlashDir(), undefined, 2);
    const abort = new AbortController();
    await expect(
      flash(b.hostEnd, {
        signal: abort.signal,
        onProgress: (p) => {
          if (p.sentBytes > image.length / 2) abort.abort();
        },
      }),
    ).rejects.toMatchObject({ code: 'FLASH_ABORTED' });
    const held = b.store.env.staging!.have;
    expect(held).toBeGreaterThan(image.length / 2);
    const r = await flash(b.hostEnd);
    expect(r.resumedFrom).toBeGreaterThanOrEqual(held);
    expect(r.bootedVersion).toBe('2.0.0');
    expect(b.store.read('a', image.length)).toEqual(image);
    b.store.close();
  });

  it('after a power loss on a slow line resumes from the last periodic sync, not from zero', async () => {
    // 400,000 bytes/s: 64 KiB take ~164 ms, past the 50 ms this board waits between periodic syncs, so
    // they run every PERSIST_EVERY_BYTES, as on a UART.
    const dir = newFlashDir();
    const b = fakeBoard(dir, undefined, 2, undefined, 400_000, 50);
    const abort = new AbortController();
    let held = 0;
    await expect(
      flash(b.hostEnd, {
        baudRate: 4_000_000,
        signal: abort.signal,
        onProgress: (p) => {
          held = p.sentBytes;
          if (p.sentBytes > 0.7 * image.length) abort.abort();
        },
      }),
    ).rejects.toMatchObject({ code: 'FLASH_ABORTED' });
    // The power is cut at once: what was not synced by then is forgotten.
    b.powerCut();
    const after = fakeBoard(dir);
    const persisted = after.store.env.staging!.have;
    // Only what was synced counts: periodic syncs happened, each on a chunk boundary, and the last chunks
    // acknowledged were not synced yet.
    expect(persisted % DEFAULT_CHUNK_BYTES).toBe(0);
    expect(persisted).toBeGreaterThanOrEqual(PERSIST_EVERY_BYTES);
    expect(persisted).toBeLessThan(held);
    const r = await flash(after.hostEnd);
    expect(r.resumedFrom).toBe(persisted);
    expect(after.store.read('a', image.length)).toEqual(image);
    after.store.close();
  });

  it('syncs what arrived once the line goes quiet mid-transfer', async () => {
    // A fast line: the transfer reaches 70% before any periodic sync is due (50 ms here); the host stops
    // there, and the board syncs what it holds once nothing arrived for 50 ms.
    const dir = newFlashDir();
    const b = fakeBoard(dir, undefined, 2, undefined, undefined, 50);
    const abort = new AbortController();
    await expect(
      flash(b.hostEnd, {
        signal: abort.signal,
        onProgress: (p) => {
          if (p.sentBytes > 0.7 * image.length) abort.abort();
        },
      }),
    ).rejects.toMatchObject({ code: 'FLASH_ABORTED' });
    // Frames already on the line still arrive; then the line is quiet, and the board syncs all it holds.
    const onFlash = () => JSON.parse(readBootEnvBody(dir)).staging?.have ?? 0;
    for (let i = 0; i < 100 && onFlash() < b.store.env.staging!.have; i++)
      await new Promise((r) => setTimeout(r, 20));
    const received = b.store.env.staging!.have;
    expect(received).toBeGreaterThan(0.7 * image.length);
    b.powerCut();
    const after = fakeBoard(dir);
    expect(after.store.env.staging!.have).toBe(received);
    const r = await flash(after.hostEnd);
    expect(r.resumedFrom).toBe(received);
    expect(after.store.read('a', image.length)).toEqual(image);
    after.store.close();
  });

  it('refuses a board that speaks another protocol version, naming both, before BEGIN', async () => {
    const { hostEnd, boardEnd } = line();
    const decoder = new SlipDecoder();
    const seen: number[] = [];
    boardEnd.on('data', (c: Uint8Array) =>
      decoder.push(
        c,
        (f) => {
          seen.push(f.type);
          if (f.type !== MessageType.info) return;
          const v1 = encodeInfo({
            protocolVersion: 1,
            boardId: board.id,
            slotBytes: board.slotBytes,
            maxChunkBytes: 4096,
            window: 16,
            activeSlot: null,
            activeVersion: null,
            staged: null,
            encodings: 0,
          });
          boardEnd.write(encodeFrame(MessageType.infoOk, v1));
        },
        () => {},
      ),
    );
    await expect(flash(hostEnd)).rejects.toMatchObject({
      code: 'FLASH_PROTOCOL_MISMATCH',
      message: 'the board speaks flashing protocol version 1; this host speaks version 3',
    });
    expect(seen).toEqual([MessageType.info]);
  });

  it('refuses a wrong board, a foreign signer, a corrupted image and a silent port', async () => {
    const b = fakeBoard(newFlashDir());
    await expect(flash(b.hostEnd, { image: armImage })).rejects.toMatchObject({ code: 'FLASH_WRONG_BOARD' });
    await expect(flash(b.hostEnd, { image: armImage, boardId: 'emu-arm64' })).rejects.toMatchObject({
      code: 'FLASH_WRONG_BOARD',
    });
    await expect(flash(b.hostEnd, { image: foreignImage })).rejects.toMatchObject({
      code: 'FLASH_REFUSED',
      data: { boardCode: 'IMAGE_UNTRUSTED_SIGNER' },
    });
    const flipped = image.slice();
    flipped[flipped.length - 10]! ^= 1;
    await expect(flash(b.hostEnd, { image: flipped })).rejects.toMatchObject({ code: 'IMAGE_HASH_MISMATCH' });
    expect(b.store.env.staging).toBeNull();
    const silent = line(() => null);
    await expect(flash(silent.hostEnd, { timeoutMs: 100 })).rejects.toMatchObject({
      code: 'FLASH_NO_ANSWER',
    });
    b.store.close();
  });
});
