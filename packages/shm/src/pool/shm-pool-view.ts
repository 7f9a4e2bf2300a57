import { ShmError } from "../errors.ts";
import {
  BLOCK_HEADER_SIZE,
  POOL_HEADER_SIZE,
  POOL_HEADER_SIZE_OFFSET,
  POOL_HEARTBEAT_OFFSET,
  POOL_MAGIC,
  POOL_MAGIC_OFFSET,
  POOL_MAX_SIZE,
  POOL_MIN_SIZE,
  POOL_SIZE_OFFSET,
  POOL_VERSION,
  POOL_VERSION_OFFSET,
} from "../layout.ts";
import { MemfdSeal, SharedMemory } from "../memory/shared-memory.ts";

/** Options of {@link ShmPoolView.fromFd}. */
export interface ShmPoolViewOptions {
  /** Expected pool size in bytes (e.g. from configuration); any other size is refused. */
  readonly expectedSize?: number;
}

/**
 * The peer's (server's) view of a client's {@link ShmPool}: maps the pool memfd, which
 * must be sealed against shrinking (so the client cannot crash this process with SIGBUS),
 * checks the header once, and resolves (offset, length) descriptors into views after
 * checking them against the pool's real size. Never trusts sizes read from the pool later.
 */
export class ShmPoolView implements Disposable {
  /** Pool size in bytes, from the memfd itself. */
  readonly size: number;
  readonly #memory: SharedMemory;
  readonly #heartbeat: BigUint64Array;

  private constructor(memory: SharedMemory) {
    this.size = memory.size;
    this.#memory = memory;
    this.#heartbeat = new BigUint64Array(memory.bytes.buffer, POOL_HEARTBEAT_OFFSET, 1);
  }

  /**
   * Maps a pool memfd received from its owner. Takes ownership of `fd` (closed on failure
   * too). Fails with `NOT_SEALED`, `BAD_POOL` or `UNSUPPORTED_VERSION` when the memfd is
   * not a pool this code can use safely.
   */
  static fromFd(fd: number, options: ShmPoolViewOptions = {}): ShmPoolView {
    const memory = SharedMemory.fromFd(fd, {
      requiredSeals: MemfdSeal.SHRINK,
      ...(options.expectedSize === undefined ? {} : { expectedSize: options.expectedSize }),
    });
    try {
      validateHeader(memory);
      return new ShmPoolView(memory);
    } catch (error) {
      memory.close();
      throw error;
    }
  }

  /** True once `close()` has run. */
  get closed(): boolean {
    return this.#memory.closed;
  }

  /**
   * The bytes a descriptor names. `OUT_OF_BOUNDS` unless both are integers, the block lies
   * inside the heap (after the pool header and a block header) and ends within the pool.
   */
  block(offset: number, length: number): Uint8Array {
    const bytes = this.#memory.bytes;
    const firstPayload = POOL_HEADER_SIZE + BLOCK_HEADER_SIZE;
    if (
      !Number.isSafeInteger(offset) ||
      !Number.isSafeInteger(length) ||
      offset < firstPayload ||
      length < 0 ||
      offset + length > this.size
    ) {
      throw new ShmError(
        "OUT_OF_BOUNDS",
        `pool block (offset ${offset}, length ${length}) is outside ${firstPayload}..${this.size}`,
      );
    }
    return bytes.subarray(offset, offset + length);
  }

  /** The owner's heartbeat counter; a value that stops moving means the owner is gone. */
  get heartbeat(): bigint {
    if (this.#memory.closed) throw new ShmError("CLOSED", "shm pool view is closed");
    return Atomics.load(this.#heartbeat, 0);
  }

  /** Unmaps the pool (every view becomes empty) and closes the memfd. Idempotent. */
  close(): void {
    this.#memory.close();
  }

  /** Same as {@link ShmPoolView.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

function validateHeader(memory: SharedMemory): void {
  if (memory.size < POOL_MIN_SIZE || memory.size > POOL_MAX_SIZE) {
    throw new ShmError("BAD_POOL", `memfd of ${memory.size} bytes cannot hold a pool`);
  }
  const bytes = memory.bytes;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(POOL_MAGIC_OFFSET, true);
  if (magic !== POOL_MAGIC) {
    throw new ShmError(
      "BAD_POOL",
      `pool magic 0x${magic.toString(16)} is not 0x${POOL_MAGIC.toString(16)}`,
    );
  }
  const version = view.getUint16(POOL_VERSION_OFFSET, true);
  if (version !== POOL_VERSION) {
    throw new ShmError("UNSUPPORTED_VERSION", `pool version ${version} is not ${POOL_VERSION}`);
  }
  const headerSize = view.getUint16(POOL_HEADER_SIZE_OFFSET, true);
  const size = view.getUint32(POOL_SIZE_OFFSET, true);
  if (headerSize !== POOL_HEADER_SIZE || size !== memory.size) {
    throw new ShmError(
      "BAD_POOL",
      `pool header says header ${headerSize} B, size ${size} B; the memfd is ${memory.size} B`,
    );
  }
}
