import { describe, expect, it, setDefaultTimeout } from "bun:test";
import type { PlaybackOptions, RialtoError } from "@rialto/protocol";
import decodedGolden from "../apps/demo-app/media/decoded.json";
import { checkOutcomes, expectedDecoded } from "../apps/demo-app/src/checksum-report.ts";
import { ClipPlayer, sourceConfigOf } from "../apps/demo-app/src/clip-player.ts";
import type { DecodedReference } from "../apps/demo-app/src/decoded-reference.ts";
import { type DemuxedTrack, demuxMp4File } from "../apps/demo-app/src/mp4/index.ts";
import { plainSegment, SampleFeeder } from "../apps/demo-app/src/sample-feeder.ts";
import { describeWithGstreamer } from "./support/gstreamer.ts";
import {
  clipUntil,
  demoClip,
  givenClipPlayer,
  PipelineEventLog,
  runningAppsPerTest,
} from "./support/pipeline-harness.ts";
import { eventually, within } from "./support/wait.ts";

// Real processes (and, for GStreamer, real decoders) on a shared 2-core machine.
setDefaultTimeout(90_000);

const MS = 1_000_000;
/** 5 s of AC-3 stereo (`apps/demo-app/media/make-ac3-clip.sh`): the demo clip's length. */
const AC3_CLIP = new URL("../apps/demo-app/media/clip-ac3.mp4", import.meta.url).pathname;
const givenRunningApp = runningAppsPerTest();
const golden: DecodedReference = { source: "golden", ...decodedGolden };

type Engine = NonNullable<PlaybackOptions["engine"]>;
type It = (name: string, body: () => Promise<void>) => void;

/**
 * The pipeline driven the way a browser's media stack (WPE WebKit through rialto-gstreamer's
 * sinks) drives it; the same scenarios run on every engine.
 */
function browserScenarios(engine: Engine, it: It): void {
  const decodes = engine === "gstreamer";
  const feeding = { decodeOrder: decodes };
  const app = (clock: PlaybackOptions["clock"] = "freerun") => givenRunningApp({ engine, clock });
  /** The checks of a whole play-through: the compressed samples, or ffmpeg's decoding. */
  const allRendered = async (player: ClipPlayer) =>
    checkOutcomes(await player.outcomes(), decodes ? expectedDecoded(golden) : undefined).every(
      (c) => c.ok,
    );

  it("EndOfStream, then a flush and the data again: the new data plays and EndOfStream comes again", async () => {
    const { client } = await app();
    const { player, log } = await givenClipPlayer(client, feeding);
    await player.play();
    await log.state("EndOfStream");
    const video = player.feeder("video");
    if (video === undefined) throw new Error("the clip has video");
    const before = (await player.pipeline.getStats(video.sourceId)).renderedFrames;

    // When: the app flushes video (time reset) and feeds it from the start again.
    const from = log.events.length;
    video.seek(0);
    await player.pipeline.flush(video.sourceId, true);

    // Then: EndOfStream is left, the frames are rendered, and EndOfStream is reported again.
    await log.state("EndOfStream", { from });
    const after = (await player.pipeline.getStats(video.sourceId)).renderedFrames;
    expect(after - before).toBe(video.track.samples.length);
    expect(log.states().slice(-2)).toEqual(["Playing", "EndOfStream"]);
  });

  it("a flush with resetTime restarts the time: every source replayed from 0 after EndOfStream, the position follows the new data", async () => {
    const { client } = await app("realtime");
    const movie = await clipUntil(1_000 * MS);
    const { player, log } = await givenClipPlayer(client, { ...feeding, movie });
    await player.play();
    await log.state("EndOfStream");
    const endNs = await player.pipeline.getPosition();
    expect(endNs).toBeGreaterThanOrEqual(900 * MS);

    // When: every source is flushed with resetTime and fed from the start again.
    const from = log.events.length;
    for (const feeder of player.feeders) {
      feeder.seek(0);
      await player.pipeline.flush(feeder.sourceId, true);
    }

    // Then: once every source shows its first new frame the position is back near 0, and it
    // follows the data to the end again.
    for (const { sourceId } of player.feeders) {
      await log.next("firstFrame", (e) => e.sourceId === sourceId, { from });
    }
    expect(await player.pipeline.getPosition()).toBeLessThan(endNs / 2);
    await log.state("EndOfStream", { from });
    expect(await player.pipeline.getPosition()).toBeGreaterThanOrEqual(900 * MS);
    expect(log.all("playbackError")).toEqual([]);
  });

  it("an audio codec switch AAC → AC-3 → AAC mid-playback (a new source after allSourcesAttached, then switchSource) never stops the video", async () => {
    const { client } = await app("realtime");
    const { player, log } = await givenClipPlayer(client, feeding);
    const { pipeline } = player;
    const [aac, video] = [player.feeder("audio"), player.feeder("video")];
    if (aac === undefined || video === undefined) throw new Error("the clip has audio and video");
    const ac3Track = (await demuxMp4File(AC3_CLIP)).tracks[0] as DemuxedTrack;
    const order = decodes ? "decode" : "presentation";
    // The app feeds the switched source with the codec it has now, from the playhead.
    let current: SampleFeeder | undefined;
    let feedError: unknown;
    pipeline.on("needMediaData", (request) => {
      if (request.sourceId !== current?.sourceId) return;
      current.answer(request).catch((error: unknown) => {
        feedError = error;
      });
    });
    const feedFrom = (feeder: SampleFeeder, positionNs: number) => {
      feeder.seek(positionNs);
      current = feeder;
    };
    await player.play();
    await log.state("Playing");
    const from = log.events.length;

    // When: at 1.2 s the AAC source is removed and an AC-3 one attached (a language whose track
    // is AC-3); at 3 s it is switched back to the AAC track with switchSource.
    await log.next("position", (p) => p.positionNs >= 1_200 * MS);
    const attachedAtNs = await pipeline.getPosition();
    await pipeline.removeSource(aac.sourceId);
    const ac3Id = await pipeline.attachSource(sourceConfigOf(ac3Track));
    feedFrom(new SampleFeeder(pipeline, ac3Id, ac3Track, plainSegment, order), attachedAtNs);
    await log.next("position", (p) => p.positionNs >= 3_000 * MS, { from });
    const switchedAtNs = await pipeline.getPosition();
    const ac3Stats = await pipeline.getStats(ac3Id);
    // The app has AAC from now on: a request answered before the switch reached the server was
    // voided by it.
    feedFrom(new SampleFeeder(pipeline, ac3Id, aac.track, plainSegment, order), switchedAtNs);
    await pipeline.switchSource(sourceConfigOf(aac.track));
    expect(await within(player.ended, "EndOfStream")).toBe("EndOfStream");

    // Then: the video never left Playing and rendered every frame, bit-exact; the AC-3 codec
    // rendered what it was fed, and the AAC after it played on to the end.
    expect(feedError).toBeUndefined();
    expect(log.all("playbackError")).toEqual([]);
    expect(log.states(from)).toEqual(["EndOfStream"]);
    const { sourceId, track, fedPresented: fed } = video;
    const videoOutcome = { sourceId, track, fed, stats: await pipeline.getStats(sourceId) };
    expect(checkOutcomes([videoOutcome], decodes ? expectedDecoded(golden) : undefined)).toEqual([
      expect.objectContaining({ ok: true }),
    ]);
    // AC-3 frames are 32 ms: about one per 32 ms of playhead between the two switches (a few
    // frames either way for the moments the two reads were taken), then AAC to the end.
    const ac3Frames = (switchedAtNs - attachedAtNs) / (32 * MS);
    expect(Math.abs(ac3Stats.renderedFrames - ac3Frames)).toBeLessThanOrEqual(8);
    const aacFrames = (5_000 * MS - switchedAtNs) / ((1024 / 48_000) * 1_000 * MS);
    const total = await pipeline.getStats(ac3Id);
    expect(
      Math.abs(total.renderedFrames - ac3Stats.renderedFrames - aacFrames),
    ).toBeLessThanOrEqual(8);
    expect(await pipeline.getPosition()).toBeGreaterThanOrEqual(4_900 * MS);
  });

  it("a quality switch (flush without a time reset while playing) reports no underflow before the new data could come", async () => {
    const { client } = await app("realtime");
    const movie = await clipUntil(1_500 * MS);
    const { player, log } = await givenClipPlayer(client, { ...feeding, movie });
    await player.play();
    await log.next("position", (p) => p.positionNs >= 400 * MS);
    const video = player.feeder("video");
    if (video === undefined) throw new Error("the clip has video");

    // When: the app flushes video at the playhead and feeds from the next keyframe on... which
    // for this clip (a keyframe a second) is ahead of the playhead: the new frames start later.
    const position = await player.pipeline.getPosition();
    video.seek(position);
    const from = log.events.length;
    await player.pipeline.flush(video.sourceId, false);
    await log.next("sourceFlushed", () => true, { from });
    // Without resetTime the time goes on: the position holds (it never goes back).
    expect(await player.pipeline.getPosition()).toBeGreaterThanOrEqual(position);
    const rendered = await log.next("firstFrame", (e) => e.sourceId === video.sourceId, { from });

    // Then: no bufferUnderflow between the flush and the first new frame on screen: the empty
    // queue was the flush, not a stall.
    const early = log.events
      .slice(from)
      .filter((e) => e.name === "bufferUnderflow" && e.atMs <= rendered.atMs);
    expect(early).toEqual([]);
    expect(await within(player.ended, "EndOfStream")).toBe("EndOfStream");
  });

  it("destroy voids the outstanding requests as it is sent: addSegment answers Error, haveData is a no-op", async () => {
    const { client } = await app();
    const { player, log } = await givenClipPlayer(client, feeding);
    const feeder = player.feeder("video");
    feeder?.hold();
    // The request the feeder keeps unanswered: the source's latest.
    await eventually(() => feeder?.holding === true, "a held request");
    const request = log
      .all("needMediaData")
      .findLast((e) => e.payload.sourceId === feeder?.sourceId);
    if (request === undefined) throw new Error("a request of the video source");
    const { requestId } = request.payload;
    const [first, second] = feeder?.samples ?? [];
    if (first === undefined || second === undefined) throw new Error("the clip has samples");
    const segment = (s: typeof first) => ({
      data: s.data,
      timestampNs: s.timestampNs,
      durationNs: s.durationNs,
    });
    // The held request is live: a segment goes in.
    expect(player.pipeline.addSegment(requestId, segment(first))).toBe("Ok");

    // When: destroy is sent; then nothing more goes into the region the next pipeline may use.
    const destroyed = player.pipeline.destroy();
    expect(player.pipeline.addSegment(requestId, segment(second))).toBe("Error");
    await player.pipeline.haveData("Ok", requestId);
    await destroyed;
    expect(player.pipeline.lifecycle).toBe("destroyed");
  });

  it("Inactive, then Active again: the client maps the new AV memory by itself and a new pipeline plays with no extra call", async () => {
    const { app: testApp, client } = await app();
    await testApp.setState("Inactive");
    await eventually(() => client.applicationState === "Inactive", "client Inactive");
    expect(client.sharedMemory).toBeUndefined();
    // Without memory, a pipeline is refused at once, naming why.
    const refused = await client.createMediaPipeline().catch((error: unknown) => error);
    expect((refused as RialtoError).code).toBe("INVALID_STATE");
    expect((refused as RialtoError).message).toContain("not mapped");

    await testApp.setState("Active");
    await eventually(() => client.applicationState === "Running", "client Running");
    // No setApplicationState("Running") here: the client follows the server.
    const { player } = await givenClipPlayer(client, feeding);
    await player.play();
    expect(await within(player.ended, "EndOfStream")).toBe("EndOfStream");
    expect(await allRendered(player)).toBe(true);
  });

  it("an MSE seek: a flush of every source with resetTime, then setSourcePosition per source, plays from the target", async () => {
    const { client } = await app();
    const { player, log } = await givenClipPlayer(client, feeding);
    await log.state("Paused");
    const before = await player.outcomes();
    const targetNs = 2_500_000_000;

    // When: the browser's sinks each flush and set their segment (in that order, before any new
    // data, as WebKit's appsrc sends flush-start, flush-stop, segment, buffers), then the app
    // feeds from the keyframe before the target, and plays.
    for (const feeder of player.feeders) feeder.hold();
    for (const feeder of player.feeders) {
      feeder.seek(targetNs);
      await player.pipeline.flush(feeder.sourceId, true);
      await player.pipeline.setSourcePosition(feeder.sourceId, targetNs);
    }
    for (const feeder of player.feeders) await feeder.resume();
    await player.play();
    expect(await within(player.ended, "EndOfStream")).toBe("EndOfStream");

    // Then: only the frames that end after the target were shown after the seek (video
    // exactly; AAC within one frame of the decoder's own boundaries), and the position ended
    // at the end of the clip.
    for (const [index, { track, stats }] of (await player.outcomes()).entries()) {
      const shown = stats.renderedFrames - (before[index]?.stats.renderedFrames ?? 0);
      const after = track.samples.filter((s) => s.timestampNs + s.durationNs > targetNs).length;
      if (track.type === "video") expect(shown).toBe(after);
      else expect(Math.abs(shown - after)).toBeLessThanOrEqual(1);
    }
    expect(await player.pipeline.getPosition()).toBeGreaterThan(targetNs);
    expect(log.all("playbackError")).toEqual([]);
  });

  it("keeps every SPEC 9.2 setting and reads it back; a swapped argument is INVALID_ARGUMENT at once", async () => {
    const { client } = await app();
    const { player } = await givenClipPlayer(client, feeding);
    const pipeline = player.pipeline;
    const video = player.feeder("video")?.sourceId ?? 0;
    await pipeline.setSync(false);
    expect(await pipeline.getSync()).toBe(false);
    await pipeline.setImmediateOutput(video, true);
    expect(await pipeline.getImmediateOutput(video)).toBe(true);
    await pipeline.setBufferingLimit(1500);
    expect(await pipeline.getBufferingLimit()).toBe(1500);
    await pipeline.setUseBuffering(true);
    expect(await pipeline.getUseBuffering()).toBe(true);
    await pipeline.setTextTrackIdentifier("CC1");
    expect(await pipeline.getTextTrackIdentifier()).toBe("CC1");
    await pipeline.setMute(undefined, true);
    expect(await pipeline.getMute()).toBe(true);
    await pipeline.setVideoWindow(0, 0, 1920, 1080);
    await pipeline.setLowLatency(true);
    await pipeline.setSyncOff(false);
    await pipeline.setStreamSyncMode(video, 1);
    await pipeline.processAudioGap(1_000_000_000, 20_000_000, 0, true);
    // A swapped call is refused before it is sent, naming the argument.
    const swapped = (pipeline.setImmediateOutput as (a: unknown, b: unknown) => Promise<void>)(
      true,
      video,
    );
    await expect(swapped).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    const properties = await client.getSupportedProperties("audio", ["volume", "mute", "no-such"]);
    expect(properties).toEqual(["volume", "mute"]);
  });

  it("sends playbackInfo (position and volume) every 32 ms while playing, none while paused", async () => {
    const { client } = await app("realtime");
    const { player, log } = await givenClipPlayer(client, feeding);
    await log.state("Paused");
    expect(log.all("playbackInfo")).toEqual([]);
    await player.play();
    await log.next("position", (p) => p.positionNs >= 600 * MS);
    await player.pipeline.pause();
    const infos = log.all("playbackInfo");
    // About 600 ms / 32 ms; a loaded machine may run the timer late, never early.
    expect(infos.length).toBeGreaterThanOrEqual(8);
    expect(infos.length).toBeLessThanOrEqual(Math.ceil(700 / 32) + 2);
    const positions = infos.map((e) => e.payload.currentPositionNs);
    expect(positions).toEqual(positions.toSorted((a, b) => a - b));
    expect(infos.every((e) => e.payload.volume === 1)).toBe(true);
  });

  it("a rate change around a seek: the seek lands exactly on its target and the new rate holds after it", async () => {
    const { client } = await app("realtime");
    const { player, log } = await givenClipPlayer(client, feeding);
    await log.state("Paused");
    await player.pipeline.setPlaybackRate(2);
    const from = log.events.length;
    const targetNs = 3_000_000_000;
    await player.seek(targetNs);
    const landed = await log.next("position", () => true, { from });
    expect(landed.payload.positionNs).toBe(targetNs);
    await player.play();
    await log.state("Playing", { from });
    const started = performance.now();
    const startNs = await player.pipeline.getPosition();
    await log.next("position", (p) => p.positionNs >= startNs + 600 * MS, { from });
    const mediaMs = ((await player.pipeline.getPosition()) - startNs) / MS;
    const wallMs = performance.now() - started;
    expect(mediaMs / wallMs).toBeGreaterThan(1.5);
    expect(await within(player.ended, "EndOfStream")).toBe("EndOfStream");
  });

  it("Inactive while seeking: the pipeline is released, the app comes back and plays", async () => {
    const { app: testApp, client } = await app();
    const { player, log } = await givenClipPlayer(client, feeding);
    await log.state("Paused");
    for (const feeder of player.feeders) feeder.hold();
    const seeking = player.seek(2_000_000_000).catch(() => undefined);
    await testApp.setState("Inactive");
    await seeking;
    expect(await within(player.ended, "release")).toBe("released");

    await testApp.setState("Active");
    await eventually(() => client.applicationState === "Running", "client Running");
    const again = await givenClipPlayer(client, feeding);
    await again.player.play();
    expect(await within(again.player.ended, "EndOfStream")).toBe("EndOfStream");
    expect(await allRendered(again.player)).toBe(true);
  });

  it("ten seeks in a row without waiting end in the last one: SeekDone, its position, and play to the end", async () => {
    const { client } = await app();
    const { player, log } = await givenClipPlayer(client, feeding);
    await log.state("Paused");
    const targets = Array.from({ length: 10 }, (_, i) => (i + 1) * 400 * MS);
    await Promise.all(targets.map((t) => player.seek(t)));
    const last = targets.at(-1) as number;
    const done = log.all("position").filter((e) => e.payload.positionNs === last);
    expect(done.length).toBeGreaterThanOrEqual(1);
    expect(log.states().filter((s) => s === "SeekDone")).toHaveLength(10);

    await player.play();
    expect(await within(player.ended, "EndOfStream")).toBe("EndOfStream");
    expect(await player.pipeline.getPosition()).toBeGreaterThanOrEqual(last);
    expect(log.all("playbackError")).toEqual([]);
  });

  it("a play/pause storm settles in the last call's state and then plays to the end", async () => {
    const { client } = await app();
    const { player, log } = await givenClipPlayer(client, feeding);
    await log.state("Paused");
    const calls: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) calls.push(i % 2 === 0 ? player.play() : player.pipeline.pause());
    await Promise.all(calls);
    // The last call was pause: whatever happened between, the pipeline is paused now.
    expect(player.pipeline.playbackState).not.toBe("Playing");
    await player.play();
    expect(await within(player.ended, "EndOfStream")).toBe("EndOfStream");
    expect(await allRendered(player)).toBe(true);
  });

  it("channel zapping: 50 pipelines destroyed with data in flight, each next one created at once; the last plays in full", async () => {
    const { client } = await app();
    const movie = await demoClip();
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    process.on("unhandledRejection", onRejection);
    try {
      for (let zap = 0; zap < 50; zap++) {
        const pipeline = await client.createMediaPipeline();
        const log = new PipelineEventLog(pipeline);
        const player = await ClipPlayer.attach(pipeline, movie, feeding);
        await player.play();
        // Data in flight: the first requests are being answered when the channel changes.
        await log.next("needMediaData");
        await pipeline.destroy();
      }
      const { player } = await givenClipPlayer(client, feeding);
      await player.play();
      expect(await within(player.ended, "EndOfStream")).toBe("EndOfStream");
      expect(await allRendered(player)).toBe(true);
      // A request answered after its pipeline's destroy was sent is void, not an error.
      expect(rejections).toEqual([]);
    } finally {
      process.off("unhandledRejection", onRejection);
    }
  });
}

describe("browser scenarios on the virtual engine (real session server)", () =>
  browserScenarios("virtual", it));

describeWithGstreamer("browser scenarios on the GStreamer engine (real session server)", (it) =>
  browserScenarios("gstreamer", it),
);
