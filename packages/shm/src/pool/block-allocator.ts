import { ShmError } from "../errors.ts";
import {
  BLOCK_ALIGN,
  BLOCK_ALLOCATED_BIT,
  BLOCK_CHECK_OFFSET,
  BLOCK_HEADER_SIZE,
  BLOCK_MAGIC,
  BLOCK_MIN_SIZE,
  BLOCK_NEXT_FREE_OFFSET,
  BLOCK_SIZE_WORD_OFFSET,
  POOL_FREE_HEAD_OFFSET,
} from "../layout.ts";

/** One block of a pool heap, as found by walking it. */
export interface PoolBlock {
  /** Offset of the block's payload in the pool (what `alloc` hands out). */
  readonly offset: number;
  /** Bytes of payload the block can hold (block size minus its header). */
  readonly capacity: number;
  /** True while the block is allocated. */
  readonly allocated: boolean;
}

const NONE = 0;

function alignUp(value: number): number {
  return Math.ceil(value / BLOCK_ALIGN) * BLOCK_ALIGN;
}

/**
 * First-fit allocator whose whole state lives in the shared memory it manages: each block
 * starts with a header (size word with an allocated bit, check word), free blocks form an
 * address-ordered singly-linked list whose head is in the pool header, and `free` merges a
 * block with free neighbours at once, so free space never fragments into adjacent pieces.
 * Only the pool owner allocates; every header read is checked so that a bad offset or a
 * damaged list becomes a typed error, never a corrupted heap or an endless loop.
 */
export class BlockAllocator {
  readonly #view: DataView;
  readonly #heapStart: number;
  readonly #heapEnd: number;

  /** Binds to a heap that {@link BlockAllocator.format} has prepared. */
  constructor(view: DataView, heapStart: number, heapEnd: number) {
    this.#view = view;
    this.#heapStart = heapStart;
    this.#heapEnd = heapEnd;
  }

  /** Makes the heap [heapStart, heapEnd) one free block. */
  static format(view: DataView, heapStart: number, heapEnd: number): BlockAllocator {
    const allocator = new BlockAllocator(view, heapStart, heapEnd);
    allocator.#writeHeader(heapStart, heapEnd - heapStart, false);
    allocator.#setNext(heapStart, NONE);
    allocator.#link(NONE, heapStart);
    return allocator;
  }

  /** Largest payload one block can hold. */
  get maxPayload(): number {
    return this.#heapEnd - this.#heapStart - BLOCK_HEADER_SIZE;
  }

  /** Allocates `length` bytes; returns the payload offset, or `undefined` when no block fits. */
  alloc(length: number): number | undefined {
    if (length > this.maxPayload) return undefined;
    const need = Math.max(BLOCK_MIN_SIZE, alignUp(length + BLOCK_HEADER_SIZE));
    let previous = NONE;
    for (let block = this.#head(); block !== NONE; block = this.#next(block)) {
      const size = this.#freeSize(block);
      if (size >= need) {
        const rest = size - need;
        if (rest >= BLOCK_MIN_SIZE) {
          this.#writeHeader(block + need, rest, false);
          this.#setNext(block + need, this.#next(block));
          this.#link(previous, block + need);
          this.#writeHeader(block, need, true);
        } else {
          this.#link(previous, this.#next(block));
          this.#writeHeader(block, size, true);
        }
        return block + BLOCK_HEADER_SIZE;
      }
      previous = block;
    }
    return undefined;
  }

  /** Frees the block whose payload starts at `offset`; `INVALID_FREE` if it is not one. */
  free(offset: number): void {
    const block = offset - BLOCK_HEADER_SIZE;
    let size = this.#allocatedSize(block, offset);
    let previous = NONE;
    let next = this.#head();
    while (next !== NONE && next < block) {
      previous = next;
      next = this.#next(next);
    }
    const previousEnd = previous === NONE ? NONE : previous + this.#freeSize(previous);
    if (previousEnd > block || (next !== NONE && block + size > next)) {
      throw new ShmError("INVALID_FREE", `free(${offset}): the block overlaps free space`);
    }
    let after = next;
    if (next !== NONE && block + size === next) {
      size += this.#freeSize(next);
      after = this.#next(next);
      this.#clear(next);
    }
    if (previous !== NONE && previousEnd === block) {
      this.#writeHeader(previous, previousEnd - previous + size, false);
      this.#setNext(previous, after);
      this.#clear(block);
    } else {
      this.#writeHeader(block, size, false);
      this.#setNext(block, after);
      this.#link(previous, block);
    }
  }

  /** Payload bytes of the allocated block at `offset`; `INVALID_FREE` if it is not one. */
  capacityOf(offset: number): number {
    return this.#allocatedSize(offset - BLOCK_HEADER_SIZE, offset) - BLOCK_HEADER_SIZE;
  }

  /**
   * Walks the whole heap and checks its invariants: blocks tile the heap, every header is
   * intact, the free list holds exactly the free blocks in address order, and no two free
   * blocks are adjacent. Throws `BAD_POOL` on the first violation.
   */
  blocks(): PoolBlock[] {
    const blocks: PoolBlock[] = [];
    const free: number[] = [];
    let previousFree = false;
    for (let block = this.#heapStart; block < this.#heapEnd; ) {
      const { size, allocated } = this.#readHeader(block);
      if (!allocated && previousFree) {
        this.#corrupt(`free blocks at ${block} and before it are not merged`);
      }
      if (!allocated) free.push(block);
      blocks.push({
        offset: block + BLOCK_HEADER_SIZE,
        capacity: size - BLOCK_HEADER_SIZE,
        allocated,
      });
      previousFree = !allocated;
      block += size;
    }
    const listed: number[] = [];
    for (let block = this.#head(); block !== NONE; block = this.#next(block)) listed.push(block);
    if (listed.join() !== free.join()) {
      this.#corrupt(
        `free list [${listed.join(", ")}] does not match free blocks [${free.join(", ")}]`,
      );
    }
    return blocks;
  }

  #readHeader(block: number): { size: number; allocated: boolean } {
    if (!Number.isInteger(block) || block < this.#heapStart || block % BLOCK_ALIGN !== 0) {
      this.#corrupt(`block offset ${block} is not an aligned heap offset`);
    }
    if (block + BLOCK_MIN_SIZE > this.#heapEnd) this.#corrupt(`block ${block} runs past the heap`);
    const word = this.#view.getUint32(block + BLOCK_SIZE_WORD_OFFSET, true);
    const check = this.#view.getUint32(block + BLOCK_CHECK_OFFSET, true);
    const size = word & ~(BLOCK_ALIGN - 1);
    if (check !== (word ^ block ^ BLOCK_MAGIC) >>> 0) {
      this.#corrupt(`block ${block} has no valid header`);
    }
    if (size < BLOCK_MIN_SIZE || block + size > this.#heapEnd) {
      this.#corrupt(`block ${block} has size ${size}, outside the heap`);
    }
    return { size, allocated: (word & BLOCK_ALLOCATED_BIT) !== 0 };
  }

  #allocatedSize(block: number, offset: number): number {
    let header: { size: number; allocated: boolean };
    try {
      header = this.#readHeader(block);
    } catch (error) {
      if (!(error instanceof ShmError)) throw error;
      throw new ShmError("INVALID_FREE", `free(${offset}): not the start of an allocated block`);
    }
    if (!header.allocated) {
      throw new ShmError(
        "INVALID_FREE",
        `free(${offset}): the block is already free (double free)`,
      );
    }
    return header.size;
  }

  #freeSize(block: number): number {
    const { size, allocated } = this.#readHeader(block);
    if (allocated) this.#corrupt(`free list reaches allocated block ${block}`);
    return size;
  }

  #writeHeader(block: number, size: number, allocated: boolean): void {
    const word = (size | (allocated ? BLOCK_ALLOCATED_BIT : 0)) >>> 0;
    this.#view.setUint32(block + BLOCK_SIZE_WORD_OFFSET, word, true);
    this.#view.setUint32(block + BLOCK_CHECK_OFFSET, (word ^ block ^ BLOCK_MAGIC) >>> 0, true);
  }

  /** Wipes a header absorbed by a merge, so a stale offset can never pass as a block. */
  #clear(block: number): void {
    this.#view.setUint32(block + BLOCK_SIZE_WORD_OFFSET, 0, true);
    this.#view.setUint32(block + BLOCK_CHECK_OFFSET, 0, true);
  }

  #head(): number {
    return this.#view.getUint32(POOL_FREE_HEAD_OFFSET, true);
  }

  #next(block: number): number {
    const next = this.#view.getUint32(block + BLOCK_NEXT_FREE_OFFSET, true);
    if (next !== NONE && next <= block) this.#corrupt(`free list goes backwards at ${block}`);
    return next;
  }

  #setNext(block: number, next: number): void {
    this.#view.setUint32(block + BLOCK_NEXT_FREE_OFFSET, next, true);
  }

  /** Points the list entry before a block (or the head) at `block`. */
  #link(previous: number, block: number): void {
    if (previous === NONE) this.#view.setUint32(POOL_FREE_HEAD_OFFSET, block, true);
    else this.#setNext(previous, block);
  }

  #corrupt(detail: string): never {
    throw new ShmError("BAD_POOL", `pool heap is damaged: ${detail}`);
  }
}
