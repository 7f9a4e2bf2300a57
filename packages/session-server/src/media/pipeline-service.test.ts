import { describe, expect, it } from "bun:test";
import {
  type MediaSourceStatus,
  type NeedMediaDataEvent,
  PipelineEvents,
  RialtoError,
} from "@rialto/protocol";
import { computeAvBufferLayout, FrameWriter, type MediaFrame, type MediaKind } from "@rialto/shm";
import fc from "fast-check";
import type { FrameDecryptor } from "./media-engine.ts";
import { PipelineService } from "./pipeline-service.ts";
import { ManualClock } from "./test-support/manual-clock.ts";
import {
  makeFrames,
  ms,
  rialtoErrorOf,
  sha256Of,
  sourceOf,
} from "./test-support/pipeline-harness.ts";
import { createVirtualEngine } from "./virtual-engine.ts";

const LAYOUT = computeAvBufferLayout(
  { maxPlaybackSessions: 1, maxWebAudioPlayers: 0 },
  { video: 64 * 1024, audio: 16 * 1024, subtitle: 8 * 1024 },
);
const PARTITION = LAYOUT.playback[0] as NonNullable<(typeof LAYOUT.playback)[0]>;

/** Encryption info for frames the decrypt hook sees (it returns the bytes as they are). */
const ENCRYPTION = {
  cipherMode: "cenc",
  keySessionId: 1,
  keyId: new Uint8Array(16),
  iv: new Uint8Array(8),
  subsamples: [],
} as const;

/** A pipeline service over plain memory, a manual clock and a client that writes frames. */
function given(options: { kinds?: MediaKind[]; running?: boolean; decrypt?: FrameDecryptor } = {}) {
  const clock = new ManualClock();
  const memory = new Uint8Array(LAYOUT.totalSize);
  const needs: NeedMediaDataEvent[] = [];
  const events: string[] = [];
  const service = new PipelineService({
    pipelineId: 3,
    engine: createVirtualEngine({ clock }),
    playback: { clock: "freerun", sink: "checksum" },
    memory,
    partition: PARTITION,
    clock,
    applicationRunning: options.running,
    decrypt: options.decrypt,
    emit: (event, payload) => {
      event.payload.assert(payload, event.name);
      if (event === PipelineEvents.needMediaData) needs.push(payload as NeedMediaDataEvent);
      else events.push(event.name);
    },
  });
  const ids = (options.kinds ?? ["video"]).map((kind) =>
    service.pipeline.attachSource(sourceOf(kind)),
  );
  service.pipeline.allSourcesAttached();

  /** The latest needMediaData of a source. */
  const need = (sourceId = ids[0]): NeedMediaDataEvent => {
    const found = needs.findLast((n) => n.sourceId === sourceId);
    if (found === undefined) throw new Error(`no needMediaData for source ${sourceId}`);
    return found;
  };
  /** The client's side: writes frames into the request's region, returns how many fitted. */
  const write = (request: NeedMediaDataEvent, frames: readonly MediaFrame[]): number => {
    const { offset, length } = request.region;
    const writer = new FrameWriter(memory.subarray(offset, offset + length), {
      maxFrames: request.frameCount,
    });
    for (const frame of frames) if (writer.write(frame) !== "ok") break;
    return writer.frameCount;
  };
  const answer = (request: NeedMediaDataEvent, status: MediaSourceStatus, numFrames = 0) =>
    service.haveData({ pipelineId: 3, requestId: request.requestId, status, numFrames });
  return { clock, memory, needs, events, service, ids, need, write, answer };
}

describe("needMediaData", () => {
  it("asks each source for 3 frames, naming the source's region and a fresh request id", () => {
    const { needs, ids } = given({ kinds: ["video", "audio"] });
    expect(needs).toEqual([
      {
        pipelineId: 3,
        sourceId: ids[0] ?? -1,
        requestId: 1,
        frameCount: 3,
        region: { offset: PARTITION.video.offset, length: PARTITION.video.length },
      },
      {
        pipelineId: 3,
        sourceId: ids[1] ?? -1,
        requestId: 2,
        frameCount: 3,
        region: { offset: PARTITION.audio.offset, length: PARTITION.audio.length },
      },
    ]);
  });

  it("sends none while the app is not Running, and asks again once it is", () => {
    const { needs, service } = given({ running: false });
    expect(needs).toEqual([]);
    service.setApplicationRunning(true);
    expect(needs).toHaveLength(1);
  });

  it("makes answers stale when the app stops Running, then asks anew", () => {
    const { needs, service, need, answer } = given();
    const first = need();
    service.setApplicationRunning(false);
    expect(answer(first, "Ok", 0)).toBe("stale");
    service.setApplicationRunning(true);
    expect(needs).toHaveLength(2);
    expect(need().requestId).not.toBe(first.requestId);
  });
});

describe("haveData", () => {
  it("reads Ok frames from the region into the pipeline, which then prerolls", () => {
    const { service, ids, need, write, answer } = given();
    const frames = makeFrames("video", ids[0] ?? 0, 3);
    expect(write(need(), frames)).toBe(3);
    expect(answer(need(), "Ok", 3)).toBe("accepted");
    expect(service.pipeline.state).toBe("Paused");
  });

  it("renders the frames from the region itself, without copying them", () => {
    const seen: boolean[] = [];
    const { clock, memory, service, ids, need, write, answer } = given({
      decrypt: (frame) => {
        seen.push(frame.data.buffer === memory.buffer);
        return frame.data;
      },
    });
    const frames = makeFrames("video", ids[0] ?? 0, 3).map((frame) => ({
      ...frame,
      encryption: ENCRYPTION,
    }));
    write(need(), frames);
    answer(need(), "Eos", 3);
    service.pipeline.play();
    clock.advance(0);
    expect(seen).toEqual([true, true, true]);
    expect(service.pipeline.getStats(ids[0] ?? 0).checksum).toBe(sha256Of(frames));
  });

  it("copies the frames still queued before it asks the source again, so the region may be rewritten", () => {
    const { clock, memory, service, ids, need, write, answer } = given();
    const frames = makeFrames("video", ids[0] ?? 0, 3);
    const first = need();
    write(first, frames);
    answer(first, "Ok", 3);
    // Prerolled with 3 of 24 frames queued: the next request is out and the client rewrites.
    expect(need().requestId).not.toBe(first.requestId);
    memory.fill(0xee);
    service.pipeline.play();
    clock.advance(0);
    expect(service.pipeline.getStats(ids[0] ?? 0).checksum).toBe(sha256Of(frames));
  });

  it("drops queued frames whose shared memory was unmapped, with a Generic playbackError", () => {
    const { clock, memory, events, service, ids, need, write, answer } = given();
    write(need(), makeFrames("video", ids[0] ?? 0, 3));
    answer(need(), "Eos", 3);
    memory.buffer.transfer(0);
    service.pipeline.play();
    clock.advance(0);
    expect(service.pipeline.getStats(ids[0] ?? 0)).toMatchObject({
      renderedFrames: 0,
      droppedFrames: 3,
    });
    expect(events.filter((name) => name === PipelineEvents.playbackError.name)).toHaveLength(3);
  });

  it("reads NoSpaceForSamples answers like Ok ones", () => {
    const { service, ids, need, write, answer } = given();
    write(need(), makeFrames("video", ids[0] ?? 0, 2));
    expect(answer(need(), "NoSpaceForSamples", 2)).toBe("accepted");
    expect(service.pipeline.state).toBe("Paused");
  });

  it("ends the source on Eos: no further request for it", () => {
    const { needs, service, need, answer } = given({ kinds: ["video", "audio"] });
    expect(answer(need(), "Eos", 0)).toBe("accepted");
    expect(needs.filter((n) => n.sourceId === need().sourceId)).toHaveLength(1);
    expect(service.pipeline.state).toBe("Idle");
  });

  it("drops Error and CodecChanged answers and asks again after the back-off", () => {
    const { clock, needs, service, ids, need, write, answer } = given();
    write(need(), makeFrames("video", ids[0] ?? 0, 3));
    expect(answer(need(), "Error", 3)).toBe("retrying");
    clock.advance(15);
    write(need(), makeFrames("video", ids[0] ?? 0, 3));
    expect(answer(need(), "CodecChanged", 3)).toBe("retrying");
    clock.advance(30);
    expect(needs).toHaveLength(3);
    expect(service.pipeline.state).toBe("Idle");
  });

  it("retries NoAvailableSamples after 15, 30, 60, 120, 240, 480 and 480 ms", () => {
    const { clock, needs, need, answer } = given();
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      const asked = needs.length;
      const answeredAt = clock.now();
      answer(need(), "NoAvailableSamples");
      while (needs.length === asked) clock.advance(1);
      delays.push(clock.now() - answeredAt);
    }
    expect(delays).toEqual([15, 30, 60, 120, 240, 480, 480]);
  });

  it("treats Ok without frames as no samples, and restarts the back-off once frames arrive", () => {
    const { clock, needs, ids, need, write, answer } = given({ kinds: ["video", "audio"] });
    const video = ids[0] ?? 0;
    expect(answer(need(video), "Ok", 0)).toBe("retrying");
    clock.advance(15);
    answer(need(video), "NoAvailableSamples");
    clock.advance(30);
    write(need(video), makeFrames("video", video, 3));
    answer(need(video), "Ok", 3);
    answer(need(video), "NoAvailableSamples");
    const asked = needs.length;
    clock.advance(14);
    expect(needs).toHaveLength(asked);
    clock.advance(1);
    expect(needs).toHaveLength(asked + 1);
  });

  it("ignores a stale request id: answers to requests voided by a seek are not read", () => {
    const { needs, service, ids, need, write, answer } = given();
    write(need(), makeFrames("video", ids[0] ?? 0, 3));
    answer(need(), "Ok", 3);
    const beforeSeek = need();
    service.pipeline.setPosition(ms(1000));
    write(beforeSeek, makeFrames("video", ids[0] ?? 0, 3, { startNs: ms(120) }));
    expect(answer(beforeSeek, "Ok", 3)).toBe("stale");
    expect(answer(beforeSeek, "Ok", 3)).toBe("stale");
    expect(need().requestId).not.toBe(beforeSeek.requestId);
    expect(needs).toHaveLength(3);
  });

  it("refuses an answer for another pipeline", () => {
    const { service, need } = given();
    const error = rialtoErrorOf(() =>
      service.haveData({ pipelineId: 4, requestId: need().requestId, status: "Ok", numFrames: 0 }),
    );
    expect(error.message).toBe("pipeline/haveData: pipeline 4 is not pipeline 3");
  });
});

describe("haveData with a bad frame table", () => {
  it("fails the request whose table is corrupted, and the next request succeeds", () => {
    const { clock, memory, service, ids, need, write, answer } = given();
    const frames = makeFrames("video", ids[0] ?? 0, 3);
    const first = need();
    write(first, frames);
    memory[first.region.offset] = 0; // the table magic
    const error = rialtoErrorOf(() => answer(first, "Ok", 3));
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.message).toStartWith(`pipeline/haveData: request ${first.requestId} (pipeline 3`);
    expect(error.message).toContain("table magic");
    clock.advance(15);
    const second = need();
    expect(second.requestId).not.toBe(first.requestId);
    write(second, frames);
    expect(answer(second, "Ok", 3)).toBe("accepted");
    expect(service.pipeline.state).toBe("Paused");
  });

  it("refuses more frames than were requested or written", () => {
    const { clock, ids, need, write, answer } = given();
    write(need(), makeFrames("video", ids[0] ?? 0, 2));
    expect(rialtoErrorOf(() => answer(need(), "Ok", 4)).message).toContain(
      "4 frames answer a request for 3",
    );
    clock.advance(15);
    write(need(), makeFrames("video", ids[0] ?? 0, 2));
    expect(rialtoErrorOf(() => answer(need(), "Ok", 3)).message).toContain(
      "haveData says 3 frames; the table holds 2",
    );
  });

  it("refuses frames the client never wrote for this request", () => {
    const { clock, ids, need, write, answer } = given();
    write(need(), makeFrames("video", ids[0] ?? 0, 3));
    answer(need(), "Error", 3);
    clock.advance(15);
    expect(rialtoErrorOf(() => answer(need(), "Ok", 3)).message).toContain("the table holds 0");
  });

  it("refuses a frame that names another source or kind", () => {
    const { clock, ids, need, write, answer } = given();
    write(need(), makeFrames("video", 99, 1));
    expect(rialtoErrorOf(() => answer(need(), "Ok", 1)).message).toContain(
      "frame 0 names source 99",
    );
    clock.advance(15);
    write(need(), makeFrames("audio", ids[0] ?? 0, 1));
    expect(rialtoErrorOf(() => answer(need(), "Ok", 1)).message).toContain(
      "frame 0 is audio; the source is video",
    );
  });

  it("answers any corruption of the table with frames or INVALID_ARGUMENT, never anything else", () => {
    const tableBytes = 16 + 3 * 56;
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(tableBytes - 1), fc.nat(255)), { minLength: 1, maxLength: 8 }),
        (flips) => {
          const { memory, service, ids, need, write, answer } = given();
          const request = need();
          write(request, makeFrames("video", ids[0] ?? 0, 3));
          for (const [at, value] of flips) memory[request.region.offset + at] = value;
          try {
            expect(answer(request, "Ok", 3)).toBe("accepted");
          } catch (error) {
            expect(error).toBeInstanceOf(RialtoError);
            expect((error as RialtoError).code).toBe("INVALID_ARGUMENT");
          }
          service.close();
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("closing", () => {
  it("cancels the back-off timers and destroys the pipeline", () => {
    const { clock, service, need, answer } = given();
    answer(need(), "NoAvailableSamples");
    service.close();
    expect(clock.pendingTimers).toBe(0);
    expect(() => service.pipeline.play()).toThrow("pipeline/play: pipeline 3 is destroyed");
  });
});
