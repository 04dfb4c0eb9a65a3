/**
 * The emulated board's non-volatile memory (docs/flashing.md §Board state): two image slots (slot-a.bin,
 * slot-b.bin, each exactly the board's slot size, like raw flash partitions) and a small boot environment
 * (bootenv.bin: pinned release key, active slot, trial slot, staged transfer), the emulator's U-Boot env,
 * kept as two records written in place alternately (boot-env.ts).
 *
 * Durability, as a power loss sees it: slot bytes are written as they arrive but counted as "held" in
 * bootenv.bin only after an fsync of the slot (in the background: periodic and idle syncs, see
 * PERSIST_AFTER_MS; and when the image is complete and checked, before END_OK). After a crash the board
 * reports the last persisted count, never bytes that may not be on "flash". The periodic sync runs in the background while data keeps
 * flowing: done inline, its two fsyncs (~5 ms each here) stalled the line for ~60 ms of a ~150 ms transfer
 * of a 380 KB image (measured). On the critical path of a session there is one sync, the final one (slot
 * and env in parallel, completeStaged), where protocol version 1 had six in sequence.
 */
import {
  closeSync,
  existsSync,
  fsync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  unlinkSync,
  write,
} from 'node:fs';
import { join } from 'node:path';
import { IosnetError } from '../../core/errors.js';
import { BOOT_ENV_FILE, BootEnvError, BootEnvFile } from './boot-env.js';

export type SlotName = 'a' | 'b';

export interface SlotImage {
  readonly size: number;
  /** sha256 of the whole image file, hex. */
  readonly sha256: string;
  readonly version: string;
}

export interface StagedImage {
  readonly slot: SlotName;
  readonly imageSha256: string;
  readonly imageSize: number;
  readonly manifest: string;
  readonly signature: string;
  /** Bytes durably held (a prefix of the image). */
  have: number;
  /** END verified the whole image: BOOT may try it. */
  complete: boolean;
}

export interface BootEnv {
  readonly format: 1;
  readonly boardId: string;
  /** Release public key pinned at provisioning, hex: the only signer this board boots. */
  readonly releaseKey: string;
  readonly hardwareSerial: string;
  active: SlotName | null;
  /** Slot being tried: set before a trial boot, cleared when it confirms; still set at power-on = failed. */
  trial: SlotName | null;
  slots: { a: SlotImage | null; b: SlotImage | null };
  staging: StagedImage | null;
}

/**
 * Durability of a transfer in progress (docs/flashing.md §6): a periodic sync needs PERSIST_EVERY_BYTES not
 * yet synced and PERSIST_AFTER_MS since the transfer began or since the last one; the line quiet for
 * PERSIST_AFTER_MS also syncs what arrived. A sync is worth what it saves a host after a power loss, in
 * time on the line: at 115,200 or 921,600 baud 64 KiB take 5.7 s or 0.7 s, so it runs every 64 KiB as
 * before; on a pty, where the whole 393 KB image crosses in ~20-30 ms, none runs before the final one.
 * Each took the board's event loop and thread pool away from the line: the new transfer's record and five
 * periodic syncs cost 2-4 ms of a ~25 ms bench session (sessions with and without them alternating in one
 * run, measured).
 */
export const PERSIST_EVERY_BYTES = 64 * 1024;
export const PERSIST_AFTER_MS = 250;

export class EmulatorError extends IosnetError<'EMULATOR_NOT_PROVISIONED' | 'EMULATOR_STATE_INVALID'> {}

/** The environment a bootenv.bin holds, checked (format, and the board it belongs to when `boardId` is given). */
function parseEnv(body: string, envPath: string, dir: string, boardId: string | undefined): BootEnv {
  let env: BootEnv;
  try {
    env = JSON.parse(body) as BootEnv;
  } catch (e) {
    throw new EmulatorError('EMULATOR_STATE_INVALID', `${envPath}: ${(e as Error).message}`);
  }
  if (env.format !== 1) throw new EmulatorError('EMULATOR_STATE_INVALID', `${envPath}: unknown format`);
  if (boardId !== undefined && boardId !== env.boardId) {
    throw new EmulatorError(
      'EMULATOR_STATE_INVALID',
      `${dir} holds the flash of board '${env.boardId}', not '${boardId}'`,
    );
  }
  return env;
}

export class FlashStore {
  readonly dir: string;
  readonly slotBytes: number;
  env: BootEnv;
  private fds = new Map<SlotName, number>();
  /** close() ran: the power is cut. Nothing more is written or synced. */
  private closed = false;
  /** Slot writes and fsyncs on the thread pool: close() closes the slot files only once none runs. */
  private slotIo = 0;
  /** A slot write of the staged transfer failed: completeStaged refuses it. */
  private writeError: { staging: StagedImage; error: Error } | undefined;
  /** The staged byte count bootenv.bin may claim: synced to the slot file. */
  private durable = 0;
  private flushing = false;
  /** Writes of staged bytes, in order; `written` = the staged bytes whose write finished. */
  private writes: Promise<void> = Promise.resolve();
  private written = 0;
  /** Something changed while a flush ran: flush again when it ends. */
  private flushAgain = false;
  /** When the staged transfer began or its last periodic or idle sync was requested (performance.now()). */
  private syncedAt = 0;
  /** Fires PERSIST_AFTER_MS after the last append of an unfinished transfer. */
  private idleSync: ReturnType<typeof setTimeout> | undefined;
  readonly persistAfterMs: number;

  private constructor(
    dir: string,
    slotBytes: number,
    env: BootEnv,
    private readonly envFile: BootEnvFile,
    persistAfterMs: number,
  ) {
    this.dir = dir;
    this.slotBytes = slotBytes;
    this.persistAfterMs = persistAfterMs;
    this.env = env;
    this.durable = env.staging?.have ?? 0;
    this.written = this.durable;
  }

  /** Opens the flash of a provisioned board, or provisions it (pins the release key) when `provision` is given. */
  static open(
    dir: string,
    slotBytes: number,
    provision?: { boardId: string; releaseKey: string; hardwareSerial: string },
    persistAfterMs = PERSIST_AFTER_MS,
  ): FlashStore {
    const envPath = join(dir, BOOT_ENV_FILE);
    const legacyPath = join(dir, 'bootenv.json');
    let env: BootEnv;
    let file: BootEnvFile;
    const onFlash = existsSync(envPath);
    if (onFlash || existsSync(legacyPath)) {
      try {
        if (onFlash) file = BootEnvFile.open(envPath);
        else {
          // A flash folder from before bootenv.bin: its environment moves over once.
          file = BootEnvFile.create(envPath, readFileSync(legacyPath, 'utf8'));
          unlinkSync(legacyPath);
        }
      } catch (e) {
        if (e instanceof BootEnvError) throw new EmulatorError('EMULATOR_STATE_INVALID', e.message);
        throw e;
      }
      try {
        env = parseEnv(file.body, envPath, dir, provision?.boardId);
      } catch (e) {
        file.close();
        throw e;
      }
    } else if (provision) {
      mkdirSync(dir, { recursive: true });
      env = {
        format: 1,
        ...provision,
        active: null,
        trial: null,
        slots: { a: null, b: null },
        staging: null,
      };
      file = BootEnvFile.create(envPath, JSON.stringify(env));
    } else {
      throw new EmulatorError(
        'EMULATOR_NOT_PROVISIONED',
        `${dir} is not a provisioned board flash (give --release-key to provision it)`,
      );
    }
    const store = new FlashStore(dir, slotBytes, env, file, persistAfterMs);
    for (const slot of ['a', 'b'] as const) {
      const fd = openSync(
        join(dir, `slot-${slot}.bin`),
        existsSync(join(dir, `slot-${slot}.bin`)) ? 'r+' : 'w+',
      );
      ftruncateSync(fd, slotBytes);
      store.fds.set(slot, fd);
    }
    store.persist();
    return store;
  }

  private snapshot(): string {
    const s = this.env.staging;
    return JSON.stringify({ ...this.env, staging: s && { ...s, have: Math.min(s.have, this.durable) } });
  }

  /** Writes the environment (its staged count the durable one) in place and makes it durable (boot-env.ts). */
  persist(): void {
    this.envFile.write(this.snapshot());
  }

  /**
   * A new staged transfer: nothing of it is durable yet. Its record is written with its first sync (a power
   * loss before that forgets the transfer, and the host starts again from byte 0, where it stands; an env
   * that still names a complete image in that slot is harmless: a complete transfer is never resumed and
   * the bootloader re-verifies a slot before it runs it) unless it replaces a partial transfer the env on
   * flash still describes: that record must not survive while the new image's bytes overwrite its slot (it
   * would resume onto foreign bytes), so then it is synchronous.
   */
  beginStaged(staging: StagedImage): void {
    const previous = this.env.staging;
    const supersedesPartial = previous !== null && !previous.complete && this.durable > 0;
    this.env.staging = staging;
    this.durable = 0;
    this.syncedAt = performance.now();
    // Writes still queued for the old transfer stay ahead of the new one's (same slot, same offsets).
    this.written = 0;
    if (supersedesPartial) this.persist();
  }

  /** The slot a new image goes to: never the active one. */
  inactiveSlot(): SlotName {
    return this.env.active === 'a' ? 'b' : 'a';
  }

  /**
   * Appends received bytes to the staged slot and counts them as held (in RAM until written and synced).
   * The write runs on the thread pool, one after another: a synchronous write blocked the event loop for
   * ~1 ms per 32 KiB while a background fsync of the same file ran (measured), and the line waited. `bytes`
   * must not change afterwards. Makes what was written durable in the background (periodic and idle syncs,
   * PERSIST_EVERY_BYTES and PERSIST_AFTER_MS).
   */
  append(bytes: Uint8Array): void {
    const s = this.env.staging!;
    const offset = s.have;
    if (offset + bytes.length > this.slotBytes) throw new RangeError('write past the end of the slot');
    const fd = this.fds.get(s.slot)!;
    // Never rejects: a failure is kept for completeStaged. Writes still queued at a power cut are dropped.
    this.writes = this.writes.then(
      () =>
        new Promise<void>((resolve) => {
          if (this.closed || this.writeError?.staging === s) return resolve();
          this.slotJob(
            (done) => write(fd, bytes, 0, bytes.length, offset, done),
            (err) => {
              if (err) this.writeError = { staging: s, error: err };
              else if (this.env.staging === s) this.written = offset + bytes.length;
              resolve();
            },
          );
        }),
    );
    s.have += bytes.length;
    if (s.have >= s.imageSize) {
      clearTimeout(this.idleSync);
      return;
    }
    // Requested once the caller's synchronous work (the ACK) is done: the fsync it queues on the thread
    // pool would otherwise go ahead of the ACK's write to the line. None when less than PERSIST_EVERY_BYTES
    // of the image are left: the final sync (completeStaged) follows within that many bytes, and a periodic
    // one still running then held up the last writes and the final sync behind it (~1-2 ms, measured).
    const now = performance.now();
    if (
      s.imageSize - s.have > PERSIST_EVERY_BYTES &&
      s.have - this.durable >= PERSIST_EVERY_BYTES &&
      now - this.syncedAt >= this.persistAfterMs
    ) {
      this.syncedAt = now;
      queueMicrotask(() => {
        if (!this.closed) this.requestFlush();
      });
    }
    // The line gone quiet mid-transfer (a pulled cable, a stopped host): what arrived is synced.
    if (this.idleSync) this.idleSync.refresh();
    else {
      this.idleSync = setTimeout(() => {
        this.idleSync = undefined;
        const t = this.env.staging;
        if (!this.closed && t && !t.complete && t.have > this.durable) {
          this.syncedAt = performance.now();
          this.requestFlush();
        }
      }, this.persistAfterMs);
      this.idleSync.unref();
    }
  }

  /**
   * The staged image is whole and checked: records it complete. The slot's fsync and the env rewrite run
   * in parallel (two fsyncs in sequence were ~10 ms of a ~60 ms session here, measured): if power is lost
   * between them the env may call a slot complete whose last bytes did not reach flash, which is harmless:
   * a complete transfer is never resumed (BEGIN starts it over) and the bootloader re-verifies every slot
   * before it runs it. Resolves when both are durable.
   */
  async completeStaged(): Promise<void> {
    clearTimeout(this.idleSync);
    const s = this.env.staging!;
    this.durable = s.have;
    s.complete = true;
    const slotFd = this.fds.get(s.slot)!;
    // The last chunk's write, issued right before: the fsync must follow it.
    await this.writes;
    if (this.closed)
      throw new IosnetError('FLASH_BOARD_FAULT', 'the flash lost power before the image was synced');
    const failed = this.writeError?.staging === s ? this.writeError.error : undefined;
    if (failed) throw new IosnetError('FLASH_BOARD_FAULT', `cannot write the slot: ${failed.message}`);
    const slotSynced = new Promise<void>((resolve, reject) =>
      this.slotJob(
        (done) => fsync(slotFd, done),
        (err) => (err ? reject(err) : resolve()),
      ),
    );
    // The env write (pwrite + fdatasync in place) is synchronous, on the event loop, while the slot's fsync
    // runs on the thread pool: the board has nothing else to do until both are durable (END waits for them),
    // and as thread-pool jobs, each handed back to the event loop before the next, the rewrite of
    // bootenv.json it replaced took ~2-3 ms against ~0.7 ms in one go (measured on the loaded 2-core machine).
    try {
      this.persist();
    } catch (err) {
      slotSynced.catch(() => {});
      throw err;
    }
    await slotSynced;
  }

  private requestFlush(): void {
    if (this.flushing) this.flushAgain = true;
    else this.flushBackground();
  }

  /**
   * fsync of the staged slot (when it holds more than the durable count) on the thread pool, then the env
   * written in place on the event loop (~0.3 ms: one pwrite and one fdatasync).
   */
  private flushBackground(): void {
    this.flushing = true;
    this.flushAgain = false;
    const staging = this.env.staging;
    // Only bytes whose write finished can be synced.
    const target = Math.min(staging?.have ?? 0, this.written);
    const writeEnv = (err: Error | null) => {
      // A power cut while the fsync ran leaves the last durable state, as a real cut would; a failed fsync
      // claims nothing more (the final sync, completeStaged, will fail the transfer).
      if (!err && !this.closed) {
        if (staging && this.env.staging === staging) this.durable = Math.max(this.durable, target);
        this.persist();
      }
      this.flushing = false;
      if (this.flushAgain && !this.closed) this.flushBackground();
    };
    const fd = staging && target > this.durable ? this.fds.get(staging.slot)! : undefined;
    if (fd !== undefined) this.slotJob((done) => fsync(fd, done), writeEnv);
    else writeEnv(null);
  }

  read(slot: SlotName, size: number): Uint8Array {
    const out = new Uint8Array(size);
    let off = 0;
    while (off < size) {
      const n = readSync(this.fds.get(slot)!, out, off, size - off, off);
      if (n === 0) break;
      off += n;
    }
    return out;
  }

  /**
   * The power is cut: nothing more is written or synced, and writes still queued are dropped. A slot write
   * or fsync already on the thread pool finishes first (its descriptor closed under it could already be
   * another file's: the next open gets the lowest free number), then the slot files close. The environment
   * is written synchronously, so it closes at once.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.idleSync);
    this.idleSync = undefined;
    this.envFile.close();
    if (this.slotIo === 0) this.closeSlots();
  }

  /** Runs a slot write or fsync on the thread pool, counted in slotIo, then `then` with its error. */
  private slotJob(run: (done: (err: Error | null) => void) => void, then: (err: Error | null) => void): void {
    this.slotIo++;
    run((err) => {
      if (--this.slotIo === 0 && this.closed) this.closeSlots();
      then(err);
    });
  }

  private closeSlots(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }
}
