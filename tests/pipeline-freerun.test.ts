import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { RialtoError } from "@rialto/protocol";
import { checkOutcomes } from "../apps/demo-app/src/checksum-report.ts";
import { ClipPlayer } from "../apps/demo-app/src/clip-player.ts";
import type { DemuxedSample } from "../apps/demo-app/src/mp4/index.ts";
import { DEMO_CLIP_TRACKS, trackChecksum } from "../apps/demo-app/src/mp4/index.ts";
import type { FeedTarget } from "../apps/demo-app/src/sample-feeder.ts";
import {
  demoClip,
  givenClipPlayer,
  PipelineEventLog,
  runningAppsPerTest,
} from "./support/pipeline-harness.ts";
import { within } from "./support/wait.ts";

// Real processes on a shared 2-core machine: bun's 5 s default is too tight under load.
setDefaultTimeout(30_000);

const givenRunningApp = runningAppsPerTest();

const runningApp = (maxPlaybackSessions = 1) =>
  givenRunningApp({ clock: "freerun", maxPlaybackSessions });

describe("a pipeline in freerun over shared memory (real session server)", () => {
  it("plays the demo clip to EndOfStream with every sample rendered and each source's checksum equal to the file's", async () => {
    // Step 1: an Active app, a Running client, a pipeline with both tracks and codec data.
    const { client } = await runningApp();
    const { player, log } = await givenClipPlayer(client);

    // Step 2: play; the feeders answer every needMediaData until Eos.
    await player.play();
    expect(await within(player.ended, "EndOfStream")).toBe("EndOfStream");

    // Step 3: the server rendered exactly the file's samples, in order, per source.
    const checks = checkOutcomes(await player.outcomes());
    expect(checks.map((c) => [c.type, c.renderedFrames, c.droppedFrames, c.ok])).toEqual([
      ["video", 125, 0, true],
      ["audio", 235, 0, true],
    ]);
    // ffprobe's presented packets (the AAC priming one, before 0, is fed and clipped).
    for (const check of checks) {
      const ffprobe = DEMO_CLIP_TRACKS.find((t) => t.type === check.type);
      expect(check.renderedChecksum).toBe(ffprobe?.presentedSha256 ?? "");
    }
    expect(log.states()).toEqual(["Paused", "Playing", "EndOfStream"]);
    // Prerolling asks for 3 frames per source, playing for 24.
    const counts = log.all("needMediaData").map((e) => e.payload.frameCount);
    expect(counts.slice(0, 2)).toEqual([3, 3]);
    expect(counts).toContain(24);
    expect(counts.every((n) => n === 3 || n === 24)).toBe(true);
  });

  it("seeks to the middle and renders only the frames that end after the seek point", async () => {
    const { client } = await runningApp();
    const { player, log } = await givenClipPlayer(client);
    await log.state("Paused");
    const middleNs = Math.floor(player.movie.durationNs / 2);

    // When: seeking while prerolled, then playing.
    const seekFrom = log.events.length;
    await player.seek(middleNs);
    await player.play();
    expect(await within(player.ended, "EndOfStream")).toBe("EndOfStream");

    // Then: Seeking, SeekDone, one position event with the target, and only the second half.
    expect(log.states()).toEqual([
      "Paused",
      "Seeking",
      "SeekDone",
      "Paused",
      "Playing",
      "EndOfStream",
    ]);
    const position = await log.next("position", () => true, { from: seekFrom });
    expect(position.payload.positionNs).toBe(middleNs);
    for (const { track, stats } of await player.outcomes()) {
      const after = (s: DemuxedSample) => s.timestampNs + s.durationNs > middleNs;
      const expected = track.samples.filter(after);
      expect(expected.length).toBeLessThan(track.samples.length);
      expect(stats.renderedFrames).toBe(expected.length);
      expect(stats.droppedFrames).toBe(0);
      expect(stats.checksum).toBe(trackChecksum(expected));
    }
  });

  it("plays two pipelines at once up to maxPlaybackSessions and refuses the next with RESOURCE_EXHAUSTED", async () => {
    const { app, client } = await runningApp(2);
    const other = await app.connect();
    await other.setApplicationState("Running");
    const first = await givenClipPlayer(client);
    const second = await givenClipPlayer(other);

    await expect(client.createMediaPipeline()).rejects.toMatchObject({
      code: "RESOURCE_EXHAUSTED",
    });

    await Promise.all([first.player.play(), second.player.play()]);
    await within(Promise.all([first.player.ended, second.player.ended]), "both EndOfStream");
    for (const { player } of [first, second]) {
      expect(checkOutcomes(await player.outcomes()).every((c) => c.ok)).toBe(true);
    }
    // Destroying one frees its playback session for a new pipeline.
    await first.player[Symbol.asyncDispose]();
    const third = await client.createMediaPipeline();
    await third.destroy();
  });

  it("fails the one haveData whose metadata table was corrupted, then recovers and plays everything", async () => {
    const { client } = await runningApp();
    const memory = client.sharedMemory;
    const videoRegion = memory?.info.playback[0]?.video;
    if (memory === undefined || videoRegion === undefined) throw new Error("no AV memory");
    const pipeline = await client.createMediaPipeline();
    const log = new PipelineEventLog(pipeline);
    const requestOf = (requestId: number) =>
      log.all("needMediaData").find((e) => e.payload.requestId === requestId)?.payload;
    let player: ClipPlayer | undefined;
    let corrupted = false;
    const feedErrors: unknown[] = [];
    // Between the feeders and the pipeline: damages the table magic of the first 24-frame
    // video answer after the segments were written, as a buggy or hostile app could.
    const corrupting = (target: FeedTarget): FeedTarget => ({
      addSegment: (requestId, segment) => target.addSegment(requestId, segment),
      haveData: (status, requestId) => {
        const request = requestOf(requestId);
        const video = player?.feeder("video")?.sourceId;
        if (!corrupted && request?.frameCount === 24 && request.sourceId === video) {
          corrupted = true;
          memory.memory.bytes.fill(0, videoRegion.offset, videoRegion.offset + 4);
        }
        return target.haveData(status, requestId);
      },
    });
    player = await ClipPlayer.attach(pipeline, await demoClip(), {
      feedTarget: corrupting,
      onFeedError: (error) => feedErrors.push(error),
    });

    await player.play();
    expect(await within(player.ended, "EndOfStream after the bad table")).toBe("EndOfStream");

    // Then: one answer failed with INVALID_ARGUMENT, was asked again, and nothing was lost.
    expect(corrupted).toBe(true);
    expect(feedErrors).toHaveLength(1);
    expect(feedErrors[0]).toBeInstanceOf(RialtoError);
    expect(feedErrors[0]).toMatchObject({ code: "INVALID_ARGUMENT" });
    expect((feedErrors[0] as Error).message).toMatch(/^pipeline\/haveData: request \d+ \(pipeline/);
    expect(checkOutcomes(await player.outcomes()).every((c) => c.ok)).toBe(true);
    expect(log.all("playbackError")).toHaveLength(0);
    expect(await client.ping(7)).toBe(7);
  });

  it("asks again after NoAvailableSamples: 15 ms, then 30, then 60 (lower bounds, in order)", async () => {
    const { client } = await runningApp();
    const clip = await demoClip();
    const video = clip.tracks.find((t) => t.type === "video");
    if (video === undefined) throw new Error("the clip has no video");
    const pipeline = await client.createMediaPipeline();
    const asked: { requestId: number; atMs: number }[] = [];
    const answeredAt: number[] = [];
    const arrived = Promise.withResolvers<void>();
    pipeline.on("needMediaData", ({ requestId }) => {
      asked.push({ requestId, atMs: performance.now() });
      if (asked.length <= 3) {
        answeredAt.push(performance.now());
        void pipeline.haveData("NoAvailableSamples", requestId);
      } else arrived.resolve();
    });
    await pipeline.load();
    await pipeline.attachSource({
      type: "video",
      mimeType: video.mimeType,
      codecData: video.codecData,
    });
    await pipeline.allSourcesAttached();
    await within(arrived.promise, "the fourth needMediaData");

    const gaps = asked.slice(1, 4).map((a, i) => a.atMs - (answeredAt[i] as number));
    expect(new Set(asked.map((a) => a.requestId)).size).toBe(4);
    // Timers never fire early; 1 ms covers rounding between the two clocks.
    expect(gaps[0]).toBeGreaterThanOrEqual(15 - 1);
    expect(gaps[1]).toBeGreaterThanOrEqual(30 - 1);
    expect(gaps[2]).toBeGreaterThanOrEqual(60 - 1);
    expect((gaps[0] as number) < (gaps[2] as number)).toBe(true);
    await pipeline.destroy();
  });
});
