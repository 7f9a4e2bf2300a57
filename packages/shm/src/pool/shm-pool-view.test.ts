import { describe, expect, it } from "bun:test";
import { FdChannel } from "../fd-passing/fd-channel.ts";
import { POOL_HEADER_SIZE, POOL_VERSION_OFFSET } from "../layout.ts";
import { SharedMemory } from "../memory/shared-memory.ts";
import { errorOf } from "../test-support/shm-error-of.ts";
import { ShmPool } from "./shm-pool.ts";
import { ShmPoolView } from "./shm-pool-view.ts";

/** Passes `fd` through an FdChannel, as the client does when it hands its pool over. */
function handOver(fd: number): number {
  const [a, b] = FdChannel.pair();
  using _a = a;
  using _b = b;
  a.sendFds([fd]);
  return b.receive()?.fds[0] ?? -1;
}

describe("ShmPoolView", () => {
  it("resolves a descriptor to the bytes the owner wrote, and its writes reach the owner", () => {
    using pool = ShmPool.create({ size: 16384, heartbeatIntervalMs: 0 });
    using view = ShmPoolView.fromFd(handOver(pool.fd), { expectedSize: 16384 });
    const block = pool.alloc(300) ?? new Uint8Array();
    block.set([1, 2, 3]);
    const seen = view.block(pool.offsetOf(block), 300);
    expect([...seen.subarray(0, 3)]).toEqual([1, 2, 3]);
    seen.set([9], 299);
    expect(block[299]).toBe(9);
    pool.beat();
    expect(view.heartbeat).toBe(pool.heartbeat);
  });

  it("refuses descriptors outside the heap with OUT_OF_BOUNDS, naming them", () => {
    using pool = ShmPool.create({ size: 8192, heartbeatIntervalMs: 0 });
    using view = ShmPoolView.fromFd(handOver(pool.fd));
    expect(view.block(8192 - 10, 10).byteLength).toBe(10);
    expect(view.block(8192, 0).byteLength).toBe(0);
    const bad: [number, number][] = [
      [0, 8],
      [POOL_HEADER_SIZE, 8],
      [8190, 10],
      [100, -1],
      [-8, 16],
      [100.5, 1],
      [100, Number.POSITIVE_INFINITY],
      [2 ** 53, 1],
      [100, 2 ** 32],
    ];
    for (const [offset, length] of bad) {
      const error = errorOf(() => view.block(offset, length));
      expect(error.code).toBe("OUT_OF_BOUNDS");
      expect(error.message).toContain(`offset ${offset}, length ${length}`);
    }
  });

  it("refuses a memfd that is not sealed against shrinking", () => {
    using memory = SharedMemory.create(8192, { seals: 0 });
    expect(errorOf(() => ShmPoolView.fromFd(handOver(memory.fd))).code).toBe("NOT_SEALED");
  });

  it("refuses a sealed memfd that does not hold a pool", () => {
    using blank = SharedMemory.create(8192);
    expect(errorOf(() => ShmPoolView.fromFd(handOver(blank.fd))).message).toContain(
      "pool magic 0x0",
    );
    using tiny = SharedMemory.create(16);
    expect(errorOf(() => ShmPoolView.fromFd(handOver(tiny.fd))).code).toBe("BAD_POOL");
  });

  it("refuses a pool of another version with UNSUPPORTED_VERSION", () => {
    using pool = ShmPool.create({ size: 8192, heartbeatIntervalMs: 0 });
    using raw = SharedMemory.fromFd(handOver(pool.fd));
    new DataView(raw.bytes.buffer).setUint16(POOL_VERSION_OFFSET, 2, true);
    expect(errorOf(() => ShmPoolView.fromFd(handOver(pool.fd))).code).toBe("UNSUPPORTED_VERSION");
  });

  it("refuses a pool of an unexpected size", () => {
    using pool = ShmPool.create({ size: 8192, heartbeatIntervalMs: 0 });
    expect(
      errorOf(() => ShmPoolView.fromFd(handOver(pool.fd), { expectedSize: 262144 })).code,
    ).toBe("INVALID_ARGUMENT");
  });

  it("detaches its views on close", () => {
    using pool = ShmPool.create({ size: 8192, heartbeatIntervalMs: 0 });
    const view = ShmPoolView.fromFd(handOver(pool.fd));
    const seen = view.block(100, 10);
    view.close();
    expect(seen.byteLength).toBe(0);
    expect(errorOf(() => view.block(100, 10)).code).toBe("CLOSED");
  });
});
