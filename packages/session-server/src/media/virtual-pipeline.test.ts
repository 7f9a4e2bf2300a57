import { describe, expect, it } from "bun:test";
import { RialtoError } from "@rialto/protocol";
import type { MediaFrame } from "@rialto/shm";
import {
  makeFrames,
  ms,
  PipelineHarness,
  rialtoErrorOf,
  sha256Of,
  sourceOf,
} from "./test-support/pipeline-harness.ts";

const FREERUN_CHECKSUM = { clock: "freerun", sink: "checksum" } as const;

function bytesOf(frames: readonly MediaFrame[]): number {
  return frames.reduce((sum, f) => sum + f.data.byteLength, 0);
}

describe("a freerun pipeline", () => {
  it("plays synthetic frames to EndOfStream and checksums exactly the bytes pushed", () => {
    const h = new PipelineHarness(FREERUN_CHECKSUM);
    const [video = 0, audio = 0] = h.attach("video", "audio");
    const videoFrames = makeFrames("video", video, 50);
    const audioFrames = makeFrames("audio", audio, 80, { durationNs: 21_333_333 });
    h.script(video, videoFrames);
    h.script(audio, audioFrames);
    h.pipeline.play();
    h.runUntilSettled();

    expect(h.states()).toEqual(["Paused", "Playing", "EndOfStream"]);
    expect(h.pipeline.getStats(video)).toEqual({
      renderedFrames: 50,
      droppedFrames: 0,
      renderedBytes: bytesOf(videoFrames),
      checksum: sha256Of(videoFrames),
    });
    expect(h.pipeline.getStats(audio)).toEqual({
      renderedFrames: 80,
      droppedFrames: 0,
      renderedBytes: bytesOf(audioFrames),
      checksum: sha256Of(audioFrames),
    });
    expect(h.pipeline.getPosition()).toBe(videoFrames.at(-1)?.timestampNs ?? -1);
  });

  it("renders frames pushed out of order in timestamp order", () => {
    const h = new PipelineHarness(FREERUN_CHECKSUM);
    const [video = 0] = h.attach("video");
    const frames = makeFrames("video", video, 3);
    h.push(video, frames.toReversed());
    h.end(video);
    h.pipeline.play();
    h.runUntilSettled();
    expect(h.pipeline.getStats(video).checksum).toBe(sha256Of(frames));
  });

  it("counts frames and bytes without a checksum with the null sink", () => {
    const h = new PipelineHarness({ clock: "freerun", sink: "null" });
    const [audio = 0] = h.attach("audio");
    const frames = makeFrames("audio", audio, 5);
    h.script(audio, frames);
    h.pipeline.play();
    h.runUntilSettled();
    expect(h.pipeline.getStats(audio)).toEqual({
      renderedFrames: 5,
      droppedFrames: 0,
      renderedBytes: bytesOf(frames),
    });
  });
});

describe("prerolling and data requests", () => {
  it("asks every source for 3 frames while prerolling, then 24 at a time once playing", () => {
    const h = new PipelineHarness(FREERUN_CHECKSUM);
    const [video = 0, audio = 0] = h.attach("video", "audio");
    expect(h.requests).toEqual([
      { sourceId: video, kind: "video", frameCount: 3 },
      { sourceId: audio, kind: "audio", frameCount: 3 },
    ]);
    h.push(video, makeFrames("video", video, 3));
    h.push(audio, makeFrames("audio", audio, 3));
    expect(h.pending(video)?.frameCount).toBe(3);
    h.pipeline.play();
    h.clock.advance(0);
    h.push(video, makeFrames("video", video, 3, { startNs: ms(120) }));
    expect(h.pending(video)?.frameCount).toBe(24);
  });

  it("reports Paused only when every audio and video source has a frame queued", () => {
    const h = new PipelineHarness(FREERUN_CHECKSUM);
    const [video = 0, audio = 0] = h.attach("video", "audio");
    h.push(video, makeFrames("video", video, 3));
    expect(h.pipeline.state).toBe("Idle");
    h.push(audio, makeFrames("audio", audio, 1));
    expect(h.pipeline.state).toBe("Paused");
    expect(h.named("pipeline/networkState").map((p) => p.state)).toEqual(["Buffering", "Buffered"]);
  });

  it("counts a source at end of stream as prerolled and does not wait for subtitles", () => {
    const h = new PipelineHarness(FREERUN_CHECKSUM);
    const [video = 0, audio = 0] = h.attach("video", "audio", "subtitle");
    h.end(audio);
    h.push(video, makeFrames("video", video, 1));
    expect(h.pipeline.state).toBe("Paused");
  });

  it("keeps at most one request per source outstanding", () => {
    const h = new PipelineHarness(FREERUN_CHECKSUM);
    const [video = 0, audio = 0] = h.attach("video", "audio");
    for (let i = 0; i < 5; i++) h.push(audio, makeFrames("audio", audio, 1, { startNs: ms(i) }));
    expect(h.requests.filter((r) => r.sourceId === video)).toHaveLength(1);
    expect(h.requests.filter((r) => r.sourceId === audio)).toHaveLength(6);
  });

  it("takes a last batch with endOfStream and asks that source for nothing more", () => {
    const h = new PipelineHarness(FREERUN_CHECKSUM);
    const [video = 0] = h.attach("video");
    h.pipeline.pushFrames(video, makeFrames("video", video, 2), true);
    h.pipeline.play();
    h.clock.advance(0);
    expect(h.requests).toHaveLength(1);
    expect(h.states()).toEqual(["Paused", "Playing", "EndOfStream"]);
    expect(h.pipeline.getStats(video).renderedFrames).toBe(2);
  });

  it("stops asking while the queue holds maxQueuedFrames", () => {
    const h = new PipelineHarness(FREERUN_CHECKSUM, { tuning: { maxQueuedFrames: 4 } });
    const [video = 0] = h.attach("video");
    h.push(video, makeFrames("video", video, 3));
    expect(h.pending(video)).toBeDefined();
    h.push(video, makeFrames("video", video, 3, { startNs: ms(120) }));
    expect(h.pending(video)).toBeUndefined();
  });
});

describe("removing a source", () => {
  it("voids its request, and the sources left can preroll and end the stream alone", () => {
    const h = new PipelineHarness(FREERUN_CHECKSUM);
    const [video = 0, audio = 0] = h.attach("video", "audio");
    h.push(audio, makeFrames("audio", audio, 3));
    h.pipeline.removeSource(video);
    expect(h.cancelled).toEqual([video]);
    expect(h.pipeline.state).toBe("Paused");
    h.pipeline.play();
    h.end(audio);
    h.clock.advance(0);
    expect(h.states()).toEqual(["Paused", "Playing", "EndOfStream"]);
    expect(rialtoErrorOf(() => h.pipeline.getStats(video)).code).toBe("NOT_FOUND");
  });
});

describe("flush and first frames", () => {
  it("flushes one source: queue dropped, request voided, sourceFlushed, then asks again", () => {
    const h = new PipelineHarness(FREERUN_CHECKSUM);
    const [video = 0, audio = 0] = h.attach("video", "audio");
    h.push(video, makeFrames("video", video, 3));
    h.pipeline.flush(video, false);
    expect(h.cancelled).toEqual([video]);
    expect(h.named("pipeline/sourceFlushed")).toEqual([{ pipelineId: 7, sourceId: video }]);
    expect(h.pending(video)?.frameCount).toBe(3);
    expect(h.pending(audio)).toBeDefined();
    h.push(audio, makeFrames("audio", audio, 3));
    expect(h.pipeline.state).toBe("Idle");
  });

  it("sends firstFrame once per source, and again after a flush", () => {
    const h = new PipelineHarness(FREERUN_CHECKSUM);
    const [video = 0] = h.attach("video");
    h.push(video, makeFrames("video", video, 3));
    h.pipeline.play();
    h.clock.advance(0);
    h.push(video, makeFrames("video", video, 3, { startNs: ms(120) }));
    h.clock.advance(0);
    expect(h.named("pipeline/firstFrame")).toEqual([{ pipelineId: 7, sourceId: video }]);
    h.pipeline.flush(video, true);
    h.push(video, makeFrames("video", video, 1, { startNs: ms(240) }));
    h.clock.advance(0);
    expect(h.named("pipeline/firstFrame")).toHaveLength(2);
  });
});

describe("encrypted frames", () => {
  function encrypted(frame: MediaFrame): MediaFrame {
    return {
      ...frame,
      encryption: {
        cipherMode: "cenc",
        keySessionId: 1,
        keyId: new Uint8Array(16),
        iv: new Uint8Array(8),
        subsamples: [],
      },
    };
  }

  it("checksums the bytes the decrypt hook returns, not the encrypted ones", () => {
    const clear = new Uint8Array([1, 2, 3]);
    const h = new PipelineHarness(FREERUN_CHECKSUM, { decrypt: () => clear });
    const [video = 0] = h.attach("video");
    h.push(video, makeFrames("video", video, 1).map(encrypted));
    h.end(video);
    h.pipeline.play();
    h.runUntilSettled();
    const expected = new Bun.CryptoHasher("sha256").update(clear).digest("hex");
    expect(h.pipeline.getStats(video)).toEqual({
      renderedFrames: 1,
      droppedFrames: 0,
      renderedBytes: 3,
      checksum: expected,
    });
  });

  it("drops a frame it cannot decrypt and reports playbackError with the hook's kind", () => {
    const h = new PipelineHarness(FREERUN_CHECKSUM, {
      decrypt: () => {
        throw new RialtoError("NOT_FOUND", "no key 00..00", {
          details: { playbackError: "OutputProtection" },
        });
      },
    });
    const [video = 0] = h.attach("video");
    const frames = makeFrames("video", video, 2);
    h.push(video, [encrypted(frames[0] as MediaFrame), frames[1] as MediaFrame]);
    h.end(video);
    h.pipeline.play();
    h.runUntilSettled();
    expect(h.named("pipeline/playbackError")).toEqual([
      { pipelineId: 7, sourceId: video, error: "OutputProtection", message: "no key 00..00" },
    ]);
    expect(h.pipeline.getStats(video)).toMatchObject({ renderedFrames: 1, droppedFrames: 1 });
    expect(h.pipeline.state).toBe("EndOfStream");
  });

  it("reports Decryption when there is no decrypt hook", () => {
    const h = new PipelineHarness(FREERUN_CHECKSUM);
    const [audio = 0] = h.attach("audio");
    h.push(audio, makeFrames("audio", audio, 1).map(encrypted));
    h.pipeline.play();
    h.clock.advance(0);
    expect(h.named("pipeline/playbackError")[0]?.error).toBe("Decryption");
  });
});

describe("calls that do not fit", () => {
  it("refuses a second source of the same kind with INVALID_ARGUMENT", () => {
    const h = new PipelineHarness(FREERUN_CHECKSUM);
    h.pipeline.attachSource(sourceOf("video"));
    const error = rialtoErrorOf(() => h.pipeline.attachSource(sourceOf("video")));
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.message).toBe("pipeline/attachSource: pipeline 7 already has a video source (1)");
  });

  it("refuses allSourcesAttached with no source, and video or subtitles after it", () => {
    const h = new PipelineHarness(FREERUN_CHECKSUM);
    expect(rialtoErrorOf(() => h.pipeline.allSourcesAttached()).code).toBe("INVALID_STATE");
    h.attach("audio");
    h.pipeline.removeSource(1);
    expect(rialtoErrorOf(() => h.pipeline.attachSource(sourceOf("video"))).code).toBe(
      "INVALID_STATE",
    );
    expect(rialtoErrorOf(() => h.pipeline.attachSource(sourceOf("subtitle"))).code).toBe(
      "INVALID_STATE",
    );
  });

  it("takes an audio source after allSourcesAttached (an audio switch) and asks it for data once the call returned", () => {
    const h = new PipelineHarness(FREERUN_CHECKSUM);
    const [video = 0, audio = 0] = h.attach("video", "audio");
    h.pipeline.removeSource(audio);
    const switched = h.pipeline.attachSource(sourceOf("audio"));
    expect(switched).not.toBe(audio);
    // Not from inside the call: its reply (with the id) reaches the app first.
    expect(h.pending(switched)).toBeUndefined();
    h.clock.advance(0);
    expect(h.pending(switched)?.kind).toBe("audio");
    expect(h.pending(video)?.kind).toBe("video");
  });

  it("refuses a batch holding a frame of the wrong kind and queues none of it", () => {
    const h = new PipelineHarness(FREERUN_CHECKSUM);
    const [video = 0] = h.attach("video");
    const batch = [...makeFrames("video", video, 2), ...makeFrames("audio", video, 1)];
    const error = rialtoErrorOf(() => h.pipeline.pushFrames(video, batch));
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.message).toBe(
      "pipeline/pushFrames: frame 2 of source 1 is audio, the source is video",
    );
    expect(h.pipeline.state).toBe("Idle");
  });

  it("answers an unknown source with NOT_FOUND", () => {
    const h = new PipelineHarness(FREERUN_CHECKSUM);
    h.attach("video");
    expect(rialtoErrorOf(() => h.pipeline.getStats(9)).message).toBe(
      "pipeline/getStats: pipeline 7 has no source 9",
    );
    expect(rialtoErrorOf(() => h.pipeline.pushFrames(9, [])).code).toBe("NOT_FOUND");
  });

  it("refuses a rate outside (0, 64] and a negative position with INVALID_ARGUMENT", () => {
    const h = new PipelineHarness(FREERUN_CHECKSUM);
    h.attach("video");
    for (const rate of [0, -1, 65, Number.NaN]) {
      expect(rialtoErrorOf(() => h.pipeline.setPlaybackRate(rate)).code).toBe("INVALID_ARGUMENT");
    }
    expect(rialtoErrorOf(() => h.pipeline.setPosition(-1)).code).toBe("INVALID_ARGUMENT");
  });

  it("stop voids every request and refuses what follows with INVALID_STATE", () => {
    const h = new PipelineHarness(FREERUN_CHECKSUM);
    const [video = 0, audio = 0] = h.attach("video", "audio");
    h.pipeline.stop();
    expect(h.cancelled).toEqual([video, audio]);
    expect(h.states()).toEqual(["Stopped"]);
    expect(rialtoErrorOf(() => h.pipeline.play()).message).toBe(
      "pipeline/play: pipeline 7 is Stopped",
    );
  });

  it("destroy voids requests, cancels its timers and sends no more events", () => {
    const h = new PipelineHarness({ clock: "realtime", sink: "null" });
    const [video = 0] = h.attach("video");
    h.push(video, makeFrames("video", video, 3));
    h.pipeline.play();
    const before = h.events.length;
    h.pipeline.destroy();
    h.clock.advance(1000);
    expect(h.cancelled).toEqual([video]);
    expect(h.events.length).toBe(before);
    expect(h.clock.pendingTimers).toBe(0);
    expect(rialtoErrorOf(() => h.pipeline.play()).code).toBe("INVALID_STATE");
  });
});

describe("volume and mute", () => {
  it("ramps the volume linearly over the given duration", () => {
    const h = new PipelineHarness(FREERUN_CHECKSUM);
    expect(h.pipeline.getVolume()).toBe(1);
    h.pipeline.setVolume(0, 1000);
    h.clock.advance(250);
    expect(h.pipeline.getVolume()).toBeCloseTo(0.75);
    h.clock.advance(750);
    expect(h.pipeline.getVolume()).toBe(0);
  });

  it("shapes a ramp with InCubic easing and sets at once without a duration", () => {
    const h = new PipelineHarness(FREERUN_CHECKSUM);
    h.pipeline.setVolume(0.5);
    expect(h.pipeline.getVolume()).toBe(0.5);
    h.pipeline.setVolume(1, 100, "InCubic");
    h.clock.advance(50);
    expect(h.pipeline.getVolume()).toBeCloseTo(0.5 + 0.5 * 0.125);
  });

  it("mutes one source or the whole pipeline", () => {
    const h = new PipelineHarness(FREERUN_CHECKSUM);
    const [video = 0, audio = 0] = h.attach("video", "audio");
    h.pipeline.setMute(audio, true);
    expect([h.pipeline.getMute(audio), h.pipeline.getMute(video), h.pipeline.getMute()]).toEqual([
      true,
      false,
      false,
    ]);
    h.pipeline.setMute(undefined, true);
    expect(h.pipeline.getMute()).toBe(true);
  });
});
