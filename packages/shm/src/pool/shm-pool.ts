import { ShmError } from "../errors.ts";
import {
  BLOCK_ALIGN,
  POOL_DEFAULT_SIZE,
  POOL_HEADER_SIZE,
  POOL_HEADER_SIZE_OFFSET,
  POOL_HEARTBEAT_INTERVAL_MS,
  POOL_HEARTBEAT_OFFSET,
  POOL_MAGIC,
  POOL_MAGIC_OFFSET,
  POOL_MAX_SIZE,
  POOL_MIN_SIZE,
  POOL_SIZE_OFFSET,
  POOL_VERSION,
  POOL_VERSION_OFFSET,
} from "../layout.ts";
import { SharedMemory } from "../memory/shared-memory.ts";
import { BlockAllocator, type PoolBlock } from "./block-allocator.ts";

/** Options of {@link ShmPool.create}. */
export interface ShmPoolOptions {
  /** Pool size in bytes, a multiple of 8 from 8192 to 1 GiB; default 262144. */
  readonly size?: number;
  /** memfd name shown in /proc; default `"rialto-shm-pool"`. */
  readonly name?: string;
  /** Heartbeat period in milliseconds (0: only explicit `beat()` calls); default 1000. */
  readonly heartbeatIntervalMs?: number;
}

/** Checks a pool size against the documented range; throws `INVALID_ARGUMENT` otherwise. */
function validatePoolSize(size: number): void {
  if (!Number.isInteger(size) || size < POOL_MIN_SIZE || size > POOL_MAX_SIZE) {
    throw new ShmError(
      "INVALID_ARGUMENT",
      `pool size ${size} is outside ${POOL_MIN_SIZE}..${POOL_MAX_SIZE} bytes`,
    );
  }
  if (size % BLOCK_ALIGN !== 0) {
    throw new ShmError("INVALID_ARGUMENT", `pool size ${size} is not a multiple of ${BLOCK_ALIGN}`);
  }
}

/**
 * A client-owned shared-memory pool (remote-service-over-shm): a sealed memfd with a
 * header (magic, version, size, free-list head, heartbeat) and a first-fit heap whose
 * free list lives in the shared memory itself. Hand {@link ShmPool.fd} to the peer once;
 * then send (offset, length) descriptors, which the peer resolves with `ShmPoolView`.
 * Only the owner allocates. Exhaustion is a normal result (`undefined`), not an exception.
 */
export class ShmPool implements Disposable {
  /** Pool size in bytes (the whole memfd). */
  readonly size: number;
  readonly #memory: SharedMemory;
  readonly #allocator: BlockAllocator;
  readonly #heartbeat: BigUint64Array;
  readonly #timer: ReturnType<typeof setInterval> | undefined;

  private constructor(memory: SharedMemory, heartbeatIntervalMs: number) {
    this.size = memory.size;
    this.#memory = memory;
    const bytes = memory.bytes;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    view.setUint32(POOL_MAGIC_OFFSET, POOL_MAGIC, true);
    view.setUint16(POOL_VERSION_OFFSET, POOL_VERSION, true);
    view.setUint16(POOL_HEADER_SIZE_OFFSET, POOL_HEADER_SIZE, true);
    view.setUint32(POOL_SIZE_OFFSET, memory.size, true);
    this.#heartbeat = new BigUint64Array(bytes.buffer, POOL_HEARTBEAT_OFFSET, 1);
    this.#allocator = BlockAllocator.format(view, POOL_HEADER_SIZE, memory.size);
    if (heartbeatIntervalMs > 0) {
      this.#timer = setInterval(() => this.beat(), heartbeatIntervalMs);
      this.#timer.unref();
    }
  }

  /** Creates and formats a pool in a new sealed memfd. */
  static create(options: ShmPoolOptions = {}): ShmPool {
    const size = options.size ?? POOL_DEFAULT_SIZE;
    validatePoolSize(size);
    const interval = options.heartbeatIntervalMs ?? POOL_HEARTBEAT_INTERVAL_MS;
    if (!Number.isFinite(interval) || interval < 0) {
      throw new ShmError("INVALID_ARGUMENT", `heartbeat interval ${interval} ms is not >= 0`);
    }
    const memory = SharedMemory.create(size, { name: options.name ?? "rialto-shm-pool" });
    return new ShmPool(memory, interval);
  }

  /** The memfd to pass to the peer (sealed against shrink, grow and further seals). */
  get fd(): number {
    return this.#memory.fd;
  }

  /** True once `close()` has run. */
  get closed(): boolean {
    return this.#memory.closed;
  }

  /** Largest `alloc` length that can ever succeed (the whole heap as one block). */
  get maxAllocation(): number {
    return this.#allocator.maxPayload;
  }

  /**
   * Allocates `length` bytes (a non-negative integer) and returns a view of exactly that
   * length, or `undefined` when no free block is large enough.
   */
  alloc(length: number): Uint8Array | undefined {
    const bytes = this.#memory.bytes;
    if (!Number.isSafeInteger(length) || length < 0) {
      throw new ShmError(
        "INVALID_ARGUMENT",
        `alloc(${length}): length is not a non-negative integer`,
      );
    }
    const offset = this.#allocator.alloc(length);
    return offset === undefined ? undefined : bytes.subarray(offset, offset + length);
  }

  /** Frees the block at `offset` (from {@link ShmPool.offsetOf}); `INVALID_FREE` if it is not one. */
  free(offset: number): void {
    this.#assertOpen();
    this.#allocator.free(offset);
  }

  /** Offset in the pool of a view returned by `alloc` (or of any view into the pool). */
  offsetOf(view: Uint8Array): number {
    if (view.buffer !== this.#memory.bytes.buffer) {
      throw new ShmError("INVALID_ARGUMENT", "offsetOf: the view does not belong to this pool");
    }
    return view.byteOffset;
  }

  /** Walks the heap, checks its invariants (`BAD_POOL` if broken) and lists its blocks. */
  blocks(): PoolBlock[] {
    this.#assertOpen();
    return this.#allocator.blocks();
  }

  /** Increments the heartbeat counter (atomically; peers see it) and returns the new value. */
  beat(): bigint {
    this.#assertOpen();
    return Atomics.add(this.#heartbeat, 0, 1n) + 1n;
  }

  /** Current heartbeat counter. */
  get heartbeat(): bigint {
    this.#assertOpen();
    return Atomics.load(this.#heartbeat, 0);
  }

  /** Stops the heartbeat, unmaps the pool (every view becomes empty) and closes the memfd. */
  close(): void {
    clearInterval(this.#timer);
    this.#memory.close();
  }

  /** Same as {@link ShmPool.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  #assertOpen(): void {
    if (this.#memory.closed) throw new ShmError("CLOSED", `shm pool fd ${this.fd} is closed`);
  }
}
