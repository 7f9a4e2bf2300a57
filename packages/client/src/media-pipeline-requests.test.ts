import { describe, expect, it } from "bun:test";
import { readFrames } from "@rialto/shm";
import { NeedDataRequests } from "./media-pipeline-requests.ts";
import type { MediaSourceConfig } from "./media-pipeline-sources.ts";
import { toWireSource } from "./media-pipeline-sources.ts";

const AUDIO: MediaSourceConfig = {
  type: "audio",
  mimeType: "audio/mp4",
  sampleRate: 48_000,
  channels: 2,
};
const sources = (id: number) => (id === 1 ? AUDIO : undefined);
const REGION = { offset: 4096, length: 8192 };

function need(requestId: number, frameCount = 3, sourceId = 1) {
  return { pipelineId: 1, sourceId, requestId, frameCount, region: REGION };
}

const segment = (n: number, bytes = 100) => ({
  data: new Uint8Array(bytes).fill(n),
  timestampNs: n * 1000,
  durationNs: 1000,
});

describe("NeedDataRequests (the client's side of needMediaData)", () => {
  it("writes segments into the request's region as a frame table the server can read", () => {
    const memory = new Uint8Array(16_384);
    const requests = new NeedDataRequests();
    requests.accept(need(7));
    expect(requests.addSegment(7, segment(1), sources, memory)).toBe("Ok");
    expect(requests.addSegment(7, { ...segment(2), channels: 1 }, sources, memory)).toBe("Ok");

    const frames = readFrames(memory.subarray(4096, 4096 + 8192), { maxFrames: 3 });
    expect(frames.map((f) => [f.kind, f.sourceId, f.timestampNs, f.data[0]])).toEqual([
      ["audio", 1, 1000, 1],
      ["audio", 1, 2000, 2],
    ]);
    expect(frames.map((f) => (f.kind === "audio" ? f.channels : 0))).toEqual([2, 1]);
    expect(requests.take(7)).toEqual({ sourceId: 1, numFrames: 2 });
    expect(requests.take(7)).toBeUndefined();
  });

  it("says NoSpace once the request holds frameCount frames or the bytes do not fit", () => {
    const memory = new Uint8Array(16_384);
    const requests = new NeedDataRequests();
    requests.accept(need(1, 1));
    expect(requests.addSegment(1, segment(1), sources, memory)).toBe("Ok");
    expect(requests.addSegment(1, segment(2), sources, memory)).toBe("NoSpace");
    requests.accept(need(2, 3));
    expect(requests.addSegment(2, segment(3, 9000), sources, memory)).toBe("NoSpace");
    expect(requests.take(2)).toEqual({ sourceId: 1, numFrames: 0 });
  });

  it("says Error for unknown and voided requests, a missing mapping, a region outside it and bad segments", () => {
    const memory = new Uint8Array(16_384);
    const requests = new NeedDataRequests();
    expect(requests.addSegment(9, segment(1), sources, memory)).toBe("Error");
    requests.accept(need(1));
    requests.accept(need(2));
    expect(requests.has(1)).toBe(false);
    expect(requests.addSegment(2, segment(1), sources, undefined)).toBe("Error");
    expect(requests.addSegment(2, segment(1), sources, new Uint8Array(8192))).toBe("Error");
    expect(requests.addSegment(2, { ...segment(1), timestampNs: 0.5 }, sources, memory)).toBe(
      "Error",
    );
    requests.accept(need(3, 3, 5));
    expect(requests.addSegment(3, segment(1), sources, memory)).toBe("Error");
    requests.dropSource(5);
    requests.dropAll();
    expect([requests.has(2), requests.has(3)]).toEqual([false, false]);
  });
});

describe("toWireSource", () => {
  it("sends codec data as base64 and groups audio and video parameters", () => {
    const codecData = new Uint8Array([0x12, 0x10]);
    expect(toWireSource({ ...AUDIO, codecData })).toEqual({
      type: "audio",
      mimeType: "audio/mp4",
      codecData: "EhA=",
      audio: { sampleRate: 48_000, channels: 2 },
    });
    expect(
      toWireSource({ type: "video", mimeType: "video/h264", width: 320, height: 240 }),
    ).toEqual({ type: "video", mimeType: "video/h264", video: { width: 320, height: 240 } });
    expect(toWireSource({ type: "video", mimeType: "video/h264", width: 320 })).toEqual({
      type: "video",
      mimeType: "video/h264",
    });
  });
});
