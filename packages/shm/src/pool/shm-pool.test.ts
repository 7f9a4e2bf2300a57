import { describe, expect, it } from "bun:test";
import fc from "fast-check";
import { BLOCK_HEADER_SIZE, POOL_DEFAULT_SIZE, POOL_HEADER_SIZE } from "../layout.ts";
import { F_GET_SEALS, libc } from "../libc.ts";
import { HANDOUT_SEALS } from "../memory/shared-memory.ts";
import { errorOf } from "../test-support/shm-error-of.ts";
import { ShmPool } from "./shm-pool.ts";

const HEAP = (size: number) => size - POOL_HEADER_SIZE - BLOCK_HEADER_SIZE;

describe("ShmPool", () => {
  it("defaults to 262144 bytes in a sealed memfd, one free block after the header", () => {
    using pool = ShmPool.create({ heartbeatIntervalMs: 0 });
    expect(pool.size).toBe(POOL_DEFAULT_SIZE);
    expect(pool.blocks()).toEqual([
      {
        offset: POOL_HEADER_SIZE + BLOCK_HEADER_SIZE,
        capacity: HEAP(POOL_DEFAULT_SIZE),
        allocated: false,
      },
    ]);
    expect(pool.maxAllocation).toBe(HEAP(POOL_DEFAULT_SIZE));
  });

  it("rejects a size below 8192, above 1 GiB or not a multiple of 8, naming it", () => {
    expect(errorOf(() => ShmPool.create({ size: 4096 })).message).toContain(
      "pool size 4096 is outside 8192..",
    );
    expect(errorOf(() => ShmPool.create({ size: 2 ** 31 })).code).toBe("INVALID_ARGUMENT");
    expect(errorOf(() => ShmPool.create({ size: 8193 })).message).toContain("not a multiple of 8");
  });

  it("hands out views of exactly the requested length whose offsets round-trip", () => {
    using pool = ShmPool.create({ size: 8192, heartbeatIntervalMs: 0 });
    const a = pool.alloc(100);
    const b = pool.alloc(1);
    if (a === undefined || b === undefined) throw new Error("alloc failed");
    expect(a.byteLength).toBe(100);
    expect(pool.offsetOf(a)).toBe(POOL_HEADER_SIZE + BLOCK_HEADER_SIZE);
    expect(pool.offsetOf(b)).toBeGreaterThanOrEqual(pool.offsetOf(a) + 100 + BLOCK_HEADER_SIZE);
    expect(errorOf(() => pool.offsetOf(new Uint8Array(4))).code).toBe("INVALID_ARGUMENT");
  });

  it("reports exhaustion as undefined and stays usable", () => {
    using pool = ShmPool.create({ size: 8192, heartbeatIntervalMs: 0 });
    expect(pool.alloc(pool.maxAllocation + 1)).toBeUndefined();
    const whole = pool.alloc(pool.maxAllocation);
    expect(whole?.byteLength).toBe(pool.maxAllocation);
    expect(pool.alloc(0)).toBeUndefined();
    pool.free(pool.offsetOf(whole ?? new Uint8Array()));
    expect(pool.alloc(10240)).toBeUndefined();
    expect(pool.alloc(4000)).toBeDefined();
  });

  it("refuses a double free or a foreign offset with INVALID_FREE and leaves the heap as it was", () => {
    using pool = ShmPool.create({ size: 8192, heartbeatIntervalMs: 0 });
    const a = pool.alloc(64) ?? new Uint8Array();
    const b = pool.alloc(64) ?? new Uint8Array();
    b.fill(0xff);
    pool.free(pool.offsetOf(a));
    const before = pool.blocks();
    expect(errorOf(() => pool.free(pool.offsetOf(a))).message).toContain(
      "already free (double free)",
    );
    for (const offset of [
      0,
      8,
      63,
      pool.offsetOf(b) + 8,
      pool.offsetOf(b) + 1,
      8192,
      9000,
      -8,
      1.5,
      Number.NaN,
    ]) {
      expect(errorOf(() => pool.free(offset)).code).toBe("INVALID_FREE");
    }
    expect(pool.blocks()).toEqual(before);
  });

  it("keeps its invariants under random alloc/free workloads and coalesces back to one block", () => {
    const command = fc.oneof(
      fc.record({
        op: fc.constant("alloc" as const),
        length: fc.oneof(fc.nat(64), fc.nat(2048), fc.nat(9000)),
      }),
      fc.record({ op: fc.constant("free" as const), pick: fc.nat() }),
    );
    fc.assert(
      fc.property(
        fc.array(command, { minLength: 1, maxLength: 150, size: "max" }),
        fc.constantFrom(8192, 16384),
        (commands, size) => {
          using pool = ShmPool.create({ size, heartbeatIntervalMs: 0 });
          const live: { view: Uint8Array; stamp: number }[] = [];
          let stamp = 0;
          for (const step of commands) {
            if (step.op === "alloc") {
              const view = pool.alloc(step.length);
              if (view === undefined) continue;
              stamp = (stamp + 1) % 251;
              view.fill(stamp);
              live.push({ view, stamp });
            } else if (live.length > 0) {
              const [gone] = live.splice(step.pick % live.length, 1);
              if (gone) pool.free(pool.offsetOf(gone.view));
            }
            // No overlap, inside the heap, contents untouched by the allocator's own writes.
            const spans = live.map(
              ({ view }) => [pool.offsetOf(view), pool.offsetOf(view) + view.byteLength] as const,
            );
            spans.sort((x, y) => x[0] - y[0]);
            for (const [i, [start, end]] of spans.entries()) {
              expect(start).toBeGreaterThanOrEqual(POOL_HEADER_SIZE + BLOCK_HEADER_SIZE);
              expect(end).toBeLessThanOrEqual(size);
              if (i > 0)
                expect(start).toBeGreaterThanOrEqual(
                  (spans[i - 1] as readonly [number, number])[1],
                );
            }
            for (const { view, stamp: expected } of live) {
              expect(view.every((byte) => byte === expected)).toBe(true);
            }
            const blocks = pool.blocks();
            expect(blocks.filter((block) => block.allocated)).toHaveLength(live.length);
          }
          for (const { view } of live) pool.free(pool.offsetOf(view));
          expect(pool.blocks()).toEqual([
            {
              offset: POOL_HEADER_SIZE + BLOCK_HEADER_SIZE,
              capacity: HEAP(size),
              allocated: false,
            },
          ]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("beats a heartbeat other mappings can watch, on a timer and on demand", async () => {
    using pool = ShmPool.create({ size: 8192, heartbeatIntervalMs: 5 });
    const start = pool.heartbeat;
    expect(pool.beat()).toBe(start + 1n);
    const deadline = performance.now() + 2000;
    while (pool.heartbeat < start + 3n && performance.now() < deadline) await Bun.sleep(5);
    expect(pool.heartbeat).toBeGreaterThanOrEqual(start + 3n);
  });

  it("is sealed for hand-out, and closing detaches every view it handed out", () => {
    const pool = ShmPool.create({ size: 8192, heartbeatIntervalMs: 0 });
    expect(libc.fcntl(pool.fd, F_GET_SEALS, 0)).toBe(HANDOUT_SEALS);
    const view = pool.alloc(100) ?? new Uint8Array(1);
    expect(view.byteLength).toBe(100);
    pool.close();
    expect(view.byteLength).toBe(0);
    expect(errorOf(() => pool.alloc(1)).code).toBe("CLOSED");
    expect(errorOf(() => pool.beat()).code).toBe("CLOSED");
    pool.close();
  });
});
