import { describe, expect, it } from "bun:test";
import type { SourceId } from "@rialto/protocol";
import { makeFrames, ms, PipelineHarness } from "./test-support/pipeline-harness.ts";

const REALTIME = { clock: "realtime", sink: "checksum" } as const;

/** A realtime pipeline with one video source holding `frames` 40 ms frames, playing at 0 ms. */
function playingVideo(frames: number): { h: PipelineHarness; video: SourceId } {
  const h = new PipelineHarness(REALTIME);
  const [video = 0] = h.attach("video");
  h.push(video, makeFrames("video", video, frames));
  h.pipeline.play();
  h.clock.advance(0);
  return { h, video };
}

function positions(h: PipelineHarness): number[] {
  return h.named("pipeline/position").map((p) => p.positionNs as number);
}

describe("a realtime pipeline", () => {
  it("advances the position with the wall clock", () => {
    const { h } = playingVideo(3);
    h.clock.advance(1000);
    expect(h.pipeline.getPosition()).toBe(ms(1000));
  });

  it("advances twice as fast at rate 2.0, from the position the rate changed at", () => {
    const { h } = playingVideo(3);
    h.clock.advance(400);
    h.pipeline.setPlaybackRate(2.0);
    h.clock.advance(1000);
    expect(h.pipeline.getPosition()).toBe(ms(400 + 2000));
  });

  it("renders each frame when its timestamp falls due, and renders due frames sooner at rate 2.0", () => {
    const { h, video } = playingVideo(10);
    expect(h.pipeline.getStats(video).renderedFrames).toBe(1);
    h.clock.advance(39);
    expect(h.pipeline.getStats(video).renderedFrames).toBe(1);
    h.clock.advance(1);
    expect(h.pipeline.getStats(video).renderedFrames).toBe(2);
    h.pipeline.setPlaybackRate(2.0);
    h.clock.advance(40);
    expect(h.pipeline.getStats(video).renderedFrames).toBe(4);
  });

  it("drops frames that arrive too late and reports them with qos", () => {
    const { h, video } = playingVideo(3);
    h.clock.advance(500);
    // Frames for 120..480 ms arrive at 500 ms: those ending more than 20 ms ago are late.
    const late = makeFrames("video", video, 10, { startNs: ms(120) });
    h.push(video, late);
    h.clock.advance(0);
    expect(h.pipeline.getStats(video)).toMatchObject({ renderedFrames: 5, droppedFrames: 8 });
    expect(h.named("pipeline/qos")).toEqual([
      { pipelineId: 7, sourceId: video, processed: 13, dropped: 8 },
    ]);
  });

  it("reports bufferUnderflow once when data stops while playing, and again after new data runs out", () => {
    const { h, video } = playingVideo(3);
    h.clock.advance(119);
    expect(h.named("pipeline/bufferUnderflow")).toEqual([]);
    h.clock.advance(1);
    h.clock.advance(1000);
    expect(h.named("pipeline/bufferUnderflow")).toEqual([{ pipelineId: 7, sourceId: video }]);
    h.push(video, makeFrames("video", video, 1, { startNs: ms(1120) }));
    h.clock.advance(100);
    expect(h.named("pipeline/bufferUnderflow")).toHaveLength(2);
  });

  it("emits position every 250 ms while playing and none while paused", () => {
    const { h } = playingVideo(3);
    h.clock.advance(1000);
    expect(positions(h)).toEqual([ms(250), ms(500), ms(750), ms(1000)]);
    h.pipeline.pause();
    h.clock.advance(1000);
    expect(positions(h)).toHaveLength(4);
  });

  it("keeps the position monotonic across pause and resume", () => {
    const { h } = playingVideo(3);
    const seen: number[] = [];
    const sample = (): void => {
      seen.push(h.pipeline.getPosition());
    };
    h.clock.advance(300);
    sample();
    h.pipeline.pause();
    h.clock.advance(1000);
    sample();
    expect(h.pipeline.getPosition()).toBe(ms(300));
    h.pipeline.play();
    for (let i = 0; i < 4; i++) {
      h.clock.advance(50);
      sample();
    }
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(h.pipeline.getPosition()).toBe(ms(500));
    expect(h.states()).toEqual(["Paused", "Playing", "Paused", "Playing"]);
  });

  it("plays until the last frame's end before it reports EndOfStream", () => {
    const { h, video } = playingVideo(3);
    h.end(video);
    h.clock.advance(119);
    expect(h.pipeline.state).toBe("Playing");
    h.clock.advance(1);
    expect(h.pipeline.state).toBe("EndOfStream");
    expect(h.named("pipeline/bufferUnderflow")).toEqual([]);
    h.clock.advance(1000);
    expect(h.pipeline.getPosition()).toBe(ms(120));
  });
});

describe("seeking", () => {
  it("reports Seeking, flushes every queue, SeekDone, then renders only frames from the new position", () => {
    const h = new PipelineHarness(REALTIME);
    const [video = 0, audio = 0] = h.attach("video", "audio");
    h.push(video, makeFrames("video", video, 20));
    h.push(audio, makeFrames("audio", audio, 20));
    h.pipeline.play();
    h.clock.advance(100);
    const before = h.pipeline.getStats(video).renderedFrames;
    const requestsBefore = h.requests.length;

    h.pipeline.setPosition(ms(2000));
    expect(h.states().slice(-2)).toEqual(["Seeking", "SeekDone"]);
    expect(h.cancelled.toSorted()).toEqual([video, audio].toSorted());
    expect(positions(h).at(-1)).toBe(ms(2000));
    expect(h.requests.slice(requestsBefore).map((r) => r.frameCount)).toEqual([3, 3]);

    // The app restarts from the keyframe before the target: frames ending by 2000 ms are cut.
    const videoAfter = makeFrames("video", video, 10, { startNs: ms(1920) });
    h.push(video, videoAfter);
    h.push(audio, makeFrames("audio", audio, 10, { startNs: ms(2000) }));
    expect(h.states().at(-1)).toBe("Playing");
    h.clock.advance(1000);

    const rendered = h.pipeline.getStats(video).renderedFrames - before;
    expect(rendered).toBe(8);
    expect(h.pipeline.getPosition()).toBe(ms(3000));
    expect(h.pipeline.getStats(video).droppedFrames).toBe(0);
  });

  it("stays paused after a seek while paused", () => {
    const h = new PipelineHarness(REALTIME);
    const [video = 0] = h.attach("video");
    h.push(video, makeFrames("video", video, 3));
    h.pipeline.setPosition(ms(1000));
    h.push(video, makeFrames("video", video, 3, { startNs: ms(1000) }));
    expect(h.states()).toEqual(["Paused", "Seeking", "SeekDone", "Paused"]);
    h.clock.advance(500);
    expect(h.pipeline.getPosition()).toBe(ms(1000));
    expect(h.pipeline.getStats(video).renderedFrames).toBe(0);
  });

  it("plays again after EndOfStream when seeking back", () => {
    const { h, video } = playingVideo(2);
    h.end(video);
    h.clock.advance(100);
    expect(h.pipeline.state).toBe("EndOfStream");
    h.pipeline.setPosition(0);
    h.push(video, makeFrames("video", video, 2));
    h.end(video);
    expect(h.pipeline.state).toBe("Playing");
    h.clock.advance(100);
    expect(h.pipeline.state).toBe("EndOfStream");
    expect(h.pipeline.getStats(video).renderedFrames).toBe(4);
  });
});
