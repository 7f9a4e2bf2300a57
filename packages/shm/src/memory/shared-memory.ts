import { ShmError } from "../errors.ts";
import {
  libc as defaultLibc,
  F_ADD_SEALS,
  F_GET_SEALS,
  type Libc,
  MFD_ALLOW_SEALING,
  MFD_CLOEXEC,
} from "../libc.ts";

/** memfd seal bits (F_SEAL_*), combined with `|`. */
export const MemfdSeal = {
  /** No further seals can be added. */
  SEAL: 0x1,
  /** The file cannot shrink: peers cannot truncate it under a mapping (no SIGBUS). */
  SHRINK: 0x2,
  /** The file cannot grow. */
  GROW: 0x4,
  /** The contents cannot change (no writable mappings may exist when it is added). */
  WRITE: 0x8,
  /** No new writable mappings; existing ones keep writing. */
  FUTURE_WRITE: 0x10,
} as const;

/** Seals applied to memory handed to another process: fixed size, no further seals. */
export const HANDOUT_SEALS = MemfdSeal.SHRINK | MemfdSeal.GROW | MemfdSeal.SEAL;

/** Human-readable seal list, e.g. `"shrink|grow|seal"` (`"none"` for 0). */
export function describeSeals(seals: number): string {
  const names = Object.entries(MemfdSeal)
    .filter(([, bit]) => (seals & bit) !== 0)
    .map(([name]) => name.toLowerCase().replace("_", "-"));
  return names.length === 0 ? "none" : names.join("|");
}

/** Options of {@link SharedMemory.create}. */
export interface CreateSharedMemoryOptions {
  /** Name shown in /proc as `/memfd:<name>`; default `"rialto-shm"`. */
  readonly name?: string;
  /** Seals added after sizing and mapping; default {@link HANDOUT_SEALS}. */
  readonly seals?: number;
}

/** Options of {@link SharedMemory.fromFd}. */
export interface MapSharedMemoryOptions {
  /** Seals the memfd must already carry; default `MemfdSeal.SHRINK` (SIGBUS safety). */
  readonly requiredSeals?: number;
  /** Expected size in bytes; a memfd of any other size is refused. */
  readonly expectedSize?: number;
}

function validateSize(size: number): void {
  if (!Number.isSafeInteger(size) || size < 1) {
    throw new ShmError("INVALID_ARGUMENT", `shared memory size ${size} is not a positive integer`);
  }
}

/**
 * A memfd and its MAP_SHARED mapping, exposed as a Uint8Array without copying. Created
 * sealed against shrinking and growing, so it can be handed to another process (send
 * {@link SharedMemory.fd} over an `FdChannel`). `close()` / `[Symbol.dispose]` unmap at once
 * and detach every view (stale views read as empty instead of faulting); a mapping that is
 * never closed is unmapped when its buffer is garbage-collected.
 */
export class SharedMemory implements Disposable {
  /** The memfd; owned by this object and closed by `close()`. */
  readonly fd: number;
  /** Size of the memfd and the mapping, in bytes. */
  readonly size: number;
  readonly #buffer: ArrayBuffer;
  readonly #bytes: Uint8Array;
  readonly #libc: Libc;
  #closed = false;

  private constructor(fd: number, size: number, buffer: ArrayBuffer, libc: Libc) {
    this.fd = fd;
    this.size = size;
    this.#buffer = buffer;
    this.#bytes = new Uint8Array(buffer);
    this.#libc = libc;
  }

  /**
   * Creates a close-on-exec, sealable memfd of `size` bytes, maps it read-write and adds
   * the requested seals (default shrink, grow and seal).
   */
  static create(
    size: number,
    options: CreateSharedMemoryOptions = {},
    libc: Libc = defaultLibc,
  ): SharedMemory {
    validateSize(size);
    const fd = libc.memfdCreate(options.name ?? "rialto-shm", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    let buffer: ArrayBuffer | undefined;
    try {
      libc.ftruncate(fd, size);
      buffer = libc.mapShared(fd, size, true);
      const seals = options.seals ?? HANDOUT_SEALS;
      if (seals !== 0) libc.fcntl(fd, F_ADD_SEALS, seals);
      return new SharedMemory(fd, size, buffer, libc);
    } catch (error) {
      buffer?.transfer(0);
      closeQuietly(libc, fd);
      throw error;
    }
  }

  /**
   * Maps a memfd received from a peer. Takes ownership of `fd`: it is closed by `close()`,
   * and also when this call fails. The size comes from the file itself, never from the
   * peer; a memfd without the required seals is refused with `NOT_SEALED`.
   */
  static fromFd(
    fd: number,
    options: MapSharedMemoryOptions = {},
    libc: Libc = defaultLibc,
  ): SharedMemory {
    try {
      const required = options.requiredSeals ?? MemfdSeal.SHRINK;
      const seals = readSeals(libc, fd);
      if ((seals & required) !== required) {
        throw new ShmError(
          "NOT_SEALED",
          `memfd fd ${fd} has seals ${describeSeals(seals)} but ${describeSeals(required)} are required`,
        );
      }
      const size = libc.fileSize(fd);
      if (size === 0) throw new ShmError("INVALID_ARGUMENT", `memfd fd ${fd} is empty`);
      if (options.expectedSize !== undefined && size !== options.expectedSize) {
        throw new ShmError(
          "INVALID_ARGUMENT",
          `memfd fd ${fd} is ${size} bytes, expected ${options.expectedSize}`,
        );
      }
      const buffer = libc.mapShared(fd, size, true);
      return new SharedMemory(fd, size, buffer, libc);
    } catch (error) {
      closeQuietly(libc, fd);
      throw error;
    }
  }

  /** The whole mapping. Throws `CLOSED` after `close()`. */
  get bytes(): Uint8Array {
    if (this.#closed) throw new ShmError("CLOSED", `shared memory fd ${this.fd} is closed`);
    return this.#bytes;
  }

  /** True once `close()` has run. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The memfd's current seals (F_GET_SEALS), as {@link MemfdSeal} bits. */
  get seals(): number {
    if (this.#closed) throw new ShmError("CLOSED", `shared memory fd ${this.fd} is closed`);
    return readSeals(this.#libc, this.fd);
  }

  /** Adds seals (F_ADD_SEALS); fails with ERRNO EPERM once `MemfdSeal.SEAL` is set. */
  addSeals(seals: number): void {
    if (this.#closed) throw new ShmError("CLOSED", `shared memory fd ${this.fd} is closed`);
    this.#libc.fcntl(this.fd, F_ADD_SEALS, seals);
  }

  /** Unmaps now (every view becomes empty) and closes the memfd. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // transfer(0) runs the munmap deallocator now and detaches every view of the buffer,
    // so a stale view reads as empty instead of touching unmapped memory.
    this.#buffer.transfer(0);
    this.#libc.close(this.fd);
  }

  /** Same as {@link SharedMemory.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

function readSeals(libc: Libc, fd: number): number {
  try {
    return libc.fcntl(fd, F_GET_SEALS, 0);
  } catch (error) {
    if (error instanceof ShmError && error.errno === "EINVAL") {
      throw new ShmError("NOT_SEALED", `fd ${fd} is not a sealable memfd (F_GET_SEALS: EINVAL)`);
    }
    throw error;
  }
}

// Cleanup after a failure must not replace the error that caused it.
function closeQuietly(libc: Libc, fd: number): void {
  try {
    libc.close(fd);
  } catch {}
}
