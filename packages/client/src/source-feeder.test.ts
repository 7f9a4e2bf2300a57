import { describe, expect, it } from "bun:test";
import { type MediaSourceStatus, RialtoError } from "@rialto/protocol";
import type { AddSegmentStatus } from "./media-pipeline-requests.ts";
import type { MediaSegment } from "./media-pipeline-sources.ts";
import { type FeederTarget, SourceFeeder, type SourceFeederOptions } from "./source-feeder.ts";

const sample = (ms: number, bytes = 4): MediaSegment => ({
  data: new Uint8Array(bytes),
  timestampNs: ms * 1_000_000,
  durationNs: 1_000_000,
});

/**
 * A pipeline stand-in: each request holds up to `frameCount` samples and `capacity` bytes; every
 * answer is recorded as `status:timestamps(ms)`; `refuseNext` makes the next haveData reject.
 */
function fakePipeline(capacity = 1_000) {
  const answers: string[] = [];
  const open = new Map<number, { frames: number[]; bytes: number; max: number }>();
  let refuseNext = false;
  let gate: Promise<void> | undefined;
  const target: FeederTarget = {
    addSegment(requestId, segment): AddSegmentStatus {
      const request = open.get(requestId);
      if (request === undefined) return "Error";
      if (segment.timestampNs < 0) return "Error";
      if (request.frames.length >= request.max) return "NoSpace";
      if (request.bytes + segment.data.byteLength > capacity) return "NoSpace";
      request.bytes += segment.data.byteLength;
      request.frames.push(segment.timestampNs / 1_000_000);
      return "Ok";
    },
    async haveData(status: MediaSourceStatus, requestId) {
      const request = open.get(requestId);
      open.delete(requestId);
      await gate;
      if (refuseNext) {
        refuseNext = false;
        throw new RialtoError("INVALID_ARGUMENT", "cannot read the table");
      }
      answers.push(`${status}:${request?.frames.join(",") ?? ""}`);
    },
    isOutstanding: (requestId) => open.has(requestId),
  };
  let nextId = 1;
  return {
    answers,
    refuseNext: () => {
      refuseNext = true;
    },
    /** Keeps every answer in flight until the returned function is called. */
    holdAnswers: () => {
      const held = Promise.withResolvers<void>();
      gate = held.promise;
      return () => {
        gate = undefined;
        held.resolve();
      };
    },
    /** Sends a needMediaData of `frameCount` to `feeder`; resolves once answers settled. */
    async ask(feeder: SourceFeeder, frameCount: number) {
      const requestId = nextId++;
      open.set(requestId, { frames: [], bytes: 0, max: frameCount });
      feeder.requested(requestId, frameCount);
      await Bun.sleep(0);
    },
    feeder(options: SourceFeederOptions = {}) {
      return new SourceFeeder(target, 1, options, () => {});
    },
  };
}

describe("SourceFeeder", () => {
  it("answers each request with up to frameCount queued samples, and Eos after the last", async () => {
    const p = fakePipeline();
    const feeder = p.feeder();
    feeder.append([sample(0), sample(1), sample(2), sample(3)]);
    feeder.endOfStream();
    await p.ask(feeder, 3);
    await p.ask(feeder, 3);
    expect(p.answers).toEqual(["Ok:0,1,2", "Eos:3"]);
    expect(feeder.sent).toBe(4);
  });

  it("keeps a request open while nothing is queued and answers it on the next append", async () => {
    const p = fakePipeline();
    const feeder = p.feeder();
    await p.ask(feeder, 2);
    expect(p.answers).toEqual([]);
    feeder.append(sample(7));
    await Bun.sleep(0);
    expect(p.answers).toEqual(["Ok:7"]);
    await p.ask(feeder, 2);
    feeder.endOfStream();
    await Bun.sleep(0);
    expect(p.answers).toEqual(["Ok:7", "Eos:"]);
  });

  it("stops a request at NoSpace and sends the rest with the next one", async () => {
    const p = fakePipeline(10);
    const feeder = p.feeder();
    feeder.append([sample(0, 4), sample(1, 4), sample(2, 4)]);
    await p.ask(feeder, 24);
    await p.ask(feeder, 24);
    expect(p.answers).toEqual(["Ok:0,1", "Ok:2"]);
  });

  it("on a seek drops the queue and the end of stream, and asks the app for the new position", async () => {
    const p = fakePipeline();
    const seeks: number[] = [];
    const feeder = p.feeder({
      onSeek: (positionNs) => {
        seeks.push(positionNs);
        feeder.append(sample(positionNs / 1_000_000));
      },
    });
    feeder.append([sample(0), sample(1), sample(2)]);
    feeder.endOfStream();
    feeder.seeking(40_000_000);
    expect(seeks).toEqual([40_000_000]);
    expect(feeder.endOfStreamSet).toBe(false);
    await p.ask(feeder, 3);
    expect(p.answers).toEqual(["Ok:40"]);
  });

  it("answers the first request after a seek that came while an answer was in flight", async () => {
    const p = fakePipeline();
    const feeder = p.feeder({ onSeek: () => feeder.append(sample(50)) });
    feeder.append([sample(0), sample(1)]);
    const release = p.holdAnswers();
    await p.ask(feeder, 3);
    feeder.seeking(50_000_000);
    release();
    await Bun.sleep(0);
    await p.ask(feeder, 3);
    expect(p.answers).toEqual(["Ok:0,1", "Ok:50"]);
  });

  it("sends the same samples again when the server refused an answer, and reports it", async () => {
    const p = fakePipeline();
    const errors: string[] = [];
    const feeder = p.feeder({ onError: (error) => errors.push(error.code) });
    feeder.append([sample(0), sample(1)]);
    p.refuseNext();
    await p.ask(feeder, 3);
    await p.ask(feeder, 3);
    expect(p.answers).toEqual(["Ok:0,1"]);
    expect(errors).toEqual(["INVALID_ARGUMENT"]);
  });

  it("drops and reports a sample the frame format refuses or that never fits, and goes on", async () => {
    const p = fakePipeline(8);
    const errors: string[] = [];
    const feeder = p.feeder({ onError: (error) => errors.push(error.message) });
    feeder.append([sample(-1), sample(1, 64), sample(2)]);
    await p.ask(feeder, 3);
    await p.ask(feeder, 3);
    expect(p.answers).toEqual(["NoAvailableSamples:", "Ok:2"]);
    expect(errors[0]).toContain("refused the sample at -1000000 ns; dropped");
    expect(errors[1]).toContain("(64 bytes) does not fit the source's region");
  });

  it("refuses append after endOfStream and after close", () => {
    const p = fakePipeline();
    const feeder = p.feeder();
    feeder.endOfStream();
    expect(() => feeder.append(sample(0))).toThrow(/was told endOfStream\(\); seek or flush first/);
    feeder.close();
    expect(() => feeder.append(sample(0))).toThrow(/is closed/);
  });
});
