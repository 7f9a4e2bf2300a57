import { describe, expect, it } from "bun:test";
import fc from "fast-check";
import { PcmRing } from "./pcm-ring.ts";

describe("PcmRing", () => {
  it("uses whole frames only: a 100-byte region holds 11 frames of 9 bytes", () => {
    const ring = new PcmRing(new Uint8Array(100), 9, 500);
    expect(ring.capacity).toBe(11);
    expect(ring.space()).toEqual({
      availableFrames: 11,
      main: { offset: 500, length: 99 },
      wrap: { offset: 500, length: 0 },
    });
  });

  it("splits the free space into a main part up to the end and a wrap part from the start", () => {
    const ring = new PcmRing(new Uint8Array(100), 9);
    ring.commit(8);
    ring.consume(5);
    expect(ring.space()).toEqual({
      availableFrames: 8,
      main: { offset: 72, length: 27 },
      wrap: { offset: 0, length: 45 },
    });
  });

  it("refuses commits beyond the free space", () => {
    const ring = new PcmRing(new Uint8Array(100), 9);
    ring.commit(10);
    expect(() => ring.commit(2)).toThrow("numberOfFrames 2 is more than the 1 frames available");
    expect(() => ring.commit(-1)).toThrow("numberOfFrames -1");
    expect(() => ring.commit(0.5)).toThrow("numberOfFrames 0.5");
    ring.commit(1);
    expect(ring.space().availableFrames).toBe(0);
  });

  it("gives back exactly the bytes written, in order, through any sequence of writes and reads", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 0, max: 200 }),
        fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 40 }),
        (frameBytes, extraBytes, steps) => {
          const region = new Uint8Array(frameBytes * 7 + (extraBytes % frameBytes));
          const ring = new PcmRing(region, frameBytes);
          const written: number[] = [];
          const read: number[] = [];
          let next = 0;
          for (const [write, take] of steps) {
            const space = ring.space();
            expect(space.availableFrames + ring.queued).toBe(ring.capacity);
            const frames = write % (space.availableFrames + 1);
            const bytes = frames * frameBytes;
            for (let i = 0; i < bytes; i++) {
              const value = next++ & 0xff;
              const at =
                i < space.main.length
                  ? space.main.offset + i
                  : space.wrap.offset + i - space.main.length;
              expect(at + 1).toBeLessThanOrEqual(ring.capacity * frameBytes);
              region[at] = value;
              written.push(value);
            }
            ring.commit(frames);
            for (const part of ring.consume(take % (ring.queued + 1))) read.push(...part);
          }
          for (const part of ring.consume(ring.queued)) read.push(...part);
          expect(read).toEqual(written);
        },
      ),
      { numRuns: 300 },
    );
  });
});
