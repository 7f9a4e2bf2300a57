import { afterEach, expect, setDefaultTimeout } from "bun:test";
import { fileURLToPath } from "node:url";
import { RialtoClient } from "@rialto/client";
import { RialtoError } from "@rialto/protocol";
import hevcDecodedGolden from "../apps/demo-app/media/clip-hevc.decoded.json";
import decodedGolden from "../apps/demo-app/media/decoded.json";
import { checkOutcomes, expectedDecoded } from "../apps/demo-app/src/checksum-report.ts";
import { ClipPlayer } from "../apps/demo-app/src/clip-player.ts";
import type { DecodedReference } from "../apps/demo-app/src/decoded-reference.ts";
import { type DemuxedSample, demuxMp4File } from "../apps/demo-app/src/mp4/index.ts";
import { describeWithGstreamer } from "./support/gstreamer.ts";
import { jsonLines, startTestDaemon } from "./support/lifecycle-daemon.ts";
import { demoClip, givenClipPlayer, runningAppsPerTest } from "./support/pipeline-harness.ts";
import { TestApp } from "./support/rialto-app.ts";
import { within } from "./support/wait.ts";

// Real processes and real decoders on a shared 2-core machine.
setDefaultTimeout(60_000);

const givenRunningApp = runningAppsPerTest();

/** The committed values ffmpeg made for the demo clip (media/make-decoded-golden.sh). */
const golden: DecodedReference = { source: "golden", ...decodedGolden };

const gstreamerApp = (clock: "freerun" | "realtime" = "freerun") =>
  givenRunningApp({ engine: "gstreamer", clock });

/** The H.265 clip and what ffmpeg decodes from it (media/make-hevc-clip.sh, make-decoded-golden.sh). */
const HEVC_CLIP = fileURLToPath(new URL("../apps/demo-app/media/clip-hevc.mp4", import.meta.url));
const hevcGolden: DecodedReference = { source: "golden", ...hevcDecodedGolden };

/**
 * An app on the GStreamer engine with the device sink: its sink fragments (default fakesinks, no
 * display needed), or with `autodetect`, GStreamer's own choice on this machine.
 */
async function givenDeviceApp(sinks: "fakesink" | "autodetect" = "fakesink") {
  const fragments =
    sinks === "fakesink"
      ? { videoSink: "fakesink sync=false", audioSink: "fakesink sync=false" }
      : {};
  const app = await TestApp.start({
    config: {
      playback: { engine: "gstreamer", clock: "freerun", sink: "device", ...fragments },
    },
  });
  deviceApps.push(app);
  const client = await app.connect();
  await client.setApplicationState("Running");
  return { app, client };
}
const deviceApps: TestApp[] = [];
afterEach(async () => {
  for (const app of deviceApps.splice(0)) await app[Symbol.asyncDispose]();
});

/** Sample-feeding options of a decoding engine: decode order, as the file stores the samples. */
const decoding = { decodeOrder: true } as const;

describeWithGstreamer("the GStreamer engine (real session server, real decoders)", (it) => {
  it("plays the demo clip in freerun and each track's decoded output equals ffmpeg's (golden SHA-256 of I420 / F32LE)", async () => {
    // Given: an Active app on the GStreamer engine and a pipeline with both tracks.
    const { client } = await gstreamerApp();
    const { player, log } = await givenClipPlayer(client, decoding);

    // When: it plays to the end.
    await player.play();
    expect(await within(player.ended, "EndOfStream")).toBe("EndOfStream");

    // Then: every decoded frame reached the sink, and the hashes equal what ffmpeg decodes.
    const checks = checkOutcomes(await player.outcomes(), expectedDecoded(golden));
    expect(checks.map((c) => [c.type, c.renderedFrames, c.droppedFrames])).toEqual([
      ["video", 125, 0],
      ["audio", 236, 0],
    ]);
    expect(checks.map((c) => c.renderedChecksum)).toEqual([
      golden.video?.sha256,
      golden.audio?.sha256,
    ]);
    expect(log.states()).toEqual(["Paused", "Playing", "EndOfStream"]);
    expect(
      log
        .all("firstFrame")
        .map((e) => e.payload.sourceId)
        .sort(),
    ).toEqual(player.feeders.map((f) => f.sourceId).sort());
    // The appsrc levels drive the requests: 3 frames while prerolling, 24 while playing.
    const counts = log.all("needMediaData").map((e) => e.payload.frameCount);
    expect(counts.slice(0, 2)).toEqual([3, 3]);
    expect(counts).toContain(24);
    expect(counts.every((n) => n === 3 || n === 24)).toBe(true);
    expect(log.all("playbackError")).toEqual([]);
  });

  it("seeks with a flush: frames before the target are decoded but never reach the sink", async () => {
    const { client } = await gstreamerApp();
    const { player, log } = await givenClipPlayer(client, decoding);
    await log.state("Paused");
    const before = await player.outcomes();
    const targetNs = 2_500_000_000;

    // When: seeking while prerolled (the feeders restart at the keyframe before it), then playing.
    const from = log.events.length;
    await player.seek(targetNs);
    await player.play();
    expect(await within(player.ended, "EndOfStream")).toBe("EndOfStream");

    // Then: Seeking, SeekDone, a position with the target; exactly the frames that end after
    // the target were rendered after the seek (an accurate seek clips the ones before it).
    expect(log.states()).toEqual([
      "Paused",
      "Seeking",
      "SeekDone",
      "Paused",
      "Playing",
      "EndOfStream",
    ]);
    const position = await log.next("position", () => true, { from });
    expect(position.payload.positionNs).toBe(targetNs);
    const after = await player.outcomes();
    for (const [index, { track, stats }] of after.entries()) {
      const rendered = stats.renderedFrames - (before[index]?.stats.renderedFrames ?? 0);
      const ending = (s: DemuxedSample) => s.timestampNs + s.durationNs > targetNs;
      if (track.type === "video") expect(rendered).toBe(track.samples.filter(ending).length);
      // AAC: the decoder's own frame boundaries; the ones ending after the target, within one.
      else expect(Math.abs(rendered - track.samples.filter(ending).length)).toBeLessThanOrEqual(1);
    }
  });

  it("mute acts on the real pipeline: the decoded audio that reaches the sink is silence", async () => {
    const { client } = await gstreamerApp();
    // Muted before playing; preroll frames may pass earlier, so the whole pipeline is muted before
    // any source exists (kept and applied when the GStreamer pipeline is built).
    const pipeline = await client.createMediaPipeline();
    await pipeline.setMute(undefined, true);
    const player = await ClipPlayer.attach(pipeline, await demoClip(), decoding);

    await player.play();
    expect(await within(player.ended, "EndOfStream")).toBe("EndOfStream");

    // F32LE zeros of the same length; the video is untouched.
    const [video, sound] = checkOutcomes(await player.outcomes(), expectedDecoded(golden));
    expect(video?.ok).toBe(true);
    expect(sound?.renderedFrames).toBe(236);
    const zeros = new Bun.CryptoHasher("sha256")
      .update(new Uint8Array(sound?.renderedBytes ?? 0))
      .digest("hex");
    expect(sound?.renderedChecksum).toBe(zeros);
    expect(sound?.renderedChecksum).not.toBe(golden.audio?.sha256);
  });

  it("plays H.265 with B-frames (hvc1): the decoded output equals ffmpeg's", async () => {
    const { client } = await gstreamerApp();
    const movie = await demuxMp4File(HEVC_CLIP);
    const { player, log } = await givenClipPlayer(client, { ...decoding, movie });
    await player.play();
    expect(await within(player.ended, "EndOfStream")).toBe("EndOfStream");
    const checks = checkOutcomes(await player.outcomes(), expectedDecoded(hevcGolden));
    expect(checks.map((c) => [c.type, c.renderedFrames, c.ok])).toEqual([
      ["video", hevcDecodedGolden.video.frames, true],
      ["audio", hevcDecodedGolden.audio.frames, true],
    ]);
    expect(log.all("playbackError")).toEqual([]);
  });

  it("volume acts on the real pipeline: at 0.5 the decoded audio is ffmpeg's at volume 0.5, bit for bit", async () => {
    const { client } = await gstreamerApp();
    // Set before the sources exist (kept and applied when the GStreamer pipeline is built), so
    // no prerolled frame can pass at volume 1 first.
    const pipeline = await client.createMediaPipeline();
    await pipeline.setVolume(0.5);
    expect(await pipeline.getVolume()).toBe(0.5);
    const player = await ClipPlayer.attach(pipeline, await demoClip(), decoding);

    await player.play();
    expect(await within(player.ended, "EndOfStream")).toBe("EndOfStream");

    const [video, audio] = checkOutcomes(await player.outcomes(), expectedDecoded(golden));
    expect(video?.ok).toBe(true);
    expect(audio?.renderedChecksum).toBe(decodedGolden.audioAtHalfVolume.sha256);
  });

  it("a volume ramp moves the volume over its duration, shaped by its easing", async () => {
    const { client } = await gstreamerApp();
    const { player, log } = await givenClipPlayer(client, decoding);
    await log.state("Paused");
    await player.pipeline.setVolume(0, { durationMs: 400, easing: "Linear" });
    const samples: number[] = [];
    for (let volume = await player.pipeline.getVolume(); volume > 0; ) {
      samples.push(volume);
      await Bun.sleep(20);
      volume = await player.pipeline.getVolume();
    }
    // Strictly falling from near 1 through the middle, then 0 once the ramp is over.
    expect(samples.length).toBeGreaterThan(3);
    expect(samples.every((v, i) => i === 0 || v < (samples[i - 1] as number))).toBe(true);
    expect(samples.some((v) => v > 0.2 && v < 0.8)).toBe(true);
    expect(await player.pipeline.getVolume()).toBe(0);
  });

  it("flushes one source: sourceFlushed, a new request, and playback goes on to the end", async () => {
    const { client } = await gstreamerApp();
    const { player, log } = await givenClipPlayer(client, decoding);
    await log.state("Paused");
    const audio = player.feeders.find((f) => f.track.type === "audio");
    if (audio === undefined) throw new Error("the clip has an audio track");

    // When: the audio source is flushed (a quality switch: time is not reset); the app
    // restarts its feed where the flush left it.
    const from = log.events.length;
    audio.seek(0);
    await player.pipeline.flush(audio.sourceId, false);
    const flushed = await log.next("sourceFlushed", () => true, { from });
    expect(flushed.payload.sourceId).toBe(audio.sourceId);
    await log.next("needMediaData", (e) => e.sourceId === audio.sourceId, { from });

    // Then: it plays to the end without an error.
    await player.play();
    expect(await within(player.ended, "EndOfStream")).toBe("EndOfStream");
    expect(log.all("playbackError")).toEqual([]);
  });

  it("the device sink runs the platform's sink fragments (fakesink here) and counts frames natively", async () => {
    const { client } = await givenDeviceApp();
    const { player, log } = await givenClipPlayer(client, decoding);
    await player.play();
    expect(await within(player.ended, "EndOfStream")).toBe("EndOfStream");
    const stats = (await player.outcomes()).map((o) => [o.track.type, o.stats.renderedFrames]);
    expect(stats).toEqual([
      ["video", decodedGolden.video.frames],
      ["audio", decodedGolden.audio.frames],
    ]);
    expect(log.all("playbackError")).toEqual([]);
  });

  it("the default device sinks (autovideosink, autoaudiosink) play or fail cleanly on a machine without a display; the server never crashes", async () => {
    const { app, client } = await givenDeviceApp("autodetect");
    const pid = app.pid;
    const { player, log } = await givenClipPlayer(client, decoding);
    await player.play();
    const ended = await within(
      Promise.race([player.ended, log.state("Failure").then(() => "Failure")]),
      "EndOfStream or Failure",
    );
    expect(["EndOfStream", "Failure"]).toContain(ended);
    expect(await client.ping(5)).toBe(5);
    expect(app.pid).toBe(pid);
  });

  it("answers the capability questions from the decoders GStreamer's registry has", async () => {
    const { client } = await gstreamerApp();
    const video = await client.getSupportedMimeTypes("video");
    const audio = await client.getSupportedMimeTypes("audio");
    expect(video).toContain("video/h264");
    expect(audio).toContain("audio/mp4");
    expect(await client.getSupportedMimeTypes("subtitle")).toEqual([]);
    expect(await client.isMimeTypeSupported('video/h264; codecs="avc1.42c00d"')).toBe(true);
    expect(await client.isMimeTypeSupported("video/x-unknown")).toBe(false);
    // Checked against gst-inspect-1.0 (not the engine's own lookup): each listed type's decoder
    // is really registered.
    const decoderOf: Record<string, string> = {
      "video/h264": "avdec_h264",
      "video/h265": "avdec_h265",
      "audio/mp4": "avdec_aac",
    };
    for (const [mimeType, decoder] of Object.entries(decoderOf)) {
      const inspected = Bun.spawnSync(["gst-inspect-1.0", "--exists", decoder]).exitCode === 0;
      expect([...video, ...audio].includes(mimeType)).toBe(inspected);
    }
  });

  it("a corrupt sample is a playbackError naming the decoder, then Failure; the server keeps serving", async () => {
    const { client } = await gstreamerApp();
    const garbage = Uint8Array.from({ length: 900 }, (_, i) => (i * 7919) & 0xff);
    const { player, log } = await givenClipPlayer(client, {
      ...decoding,
      segmentOf: (sample, track) => ({
        data:
          track.type === "video" && sample.timestampNs === 1_000_000_000 ? garbage : sample.data,
        timestampNs: sample.timestampNs,
        durationNs: sample.durationNs,
      }),
    });
    await player.play();

    const error = await log.next("playbackError");
    expect(error.payload.error).toBe("Generic");
    expect(error.payload.message).toContain("dec");
    await log.state("Failure");
    // One error is reported, whatever else GStreamer posts after it.
    expect(log.all("playbackError")).toHaveLength(1);
    expect(await client.ping(7)).toBe(7);
    await player.pipeline.destroy();
  });

  it("wrong codec data fails the source with a typed playbackError, not a crash", async () => {
    const { client } = await gstreamerApp();
    const movie = await demoClip();
    const broken = {
      ...movie,
      tracks: movie.tracks.map((t) =>
        t.type === "video" ? { ...t, codecData: new Uint8Array([1, 2, 3, 4, 5, 6, 7]) } : t,
      ),
    };
    const { player, log } = await givenClipPlayer(client, { ...decoding, movie: broken });
    await player.play();

    const error = await log.next("playbackError");
    expect(error.payload.message.length).toBeGreaterThan(0);
    await log.state("Failure");
    expect(log.all("playbackError")).toHaveLength(1);
    expect(await client.ping(3)).toBe(3);
    // A Failed pipeline still stops and is destroyed cleanly.
    await player.pipeline.stop();
    await log.state("Stopped");
    await player.pipeline.destroy();
  });

  it("refuses a source it has no decoder for with a typed error naming the MIME type", async () => {
    const { client } = await gstreamerApp();
    const pipeline = await client.createMediaPipeline();
    const refused = await pipeline
      .attachSource({ type: "video", mimeType: "video/x-nothing" })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RialtoError);
    expect((refused as RialtoError).code).toBe("INVALID_ARGUMENT");
    expect((refused as RialtoError).message).toContain("video/x-nothing");
  });
});

describeWithGstreamer("rialtoctl start --engine gstreamer (daemon, real session server)", (it) => {
  it("starts an app whose session server answers capabilities from GStreamer", async () => {
    await using d = await startTestDaemon();
    const started = await d.ctl("start", "tv", "--active", "--engine", "gstreamer", "--json");
    expect(started.exitCode).toBe(0);
    const [info] = jsonLines(started.stdout);
    const client = await RialtoClient.connect({ socketPath: String(info?.socketPath) });
    try {
      // The GStreamer list, not the virtual engine's (which names VP9 and AV1 it cannot decode).
      const video = await client.getSupportedMimeTypes("video");
      expect(video).toContain("video/h264");
      expect(video).not.toContain("video/x-vp9");
    } finally {
      await client.close();
    }
    const refused = await d.ctl("start", "tv2", "--engine", "mpeg1");
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('--engine must be virtual, gstreamer, got "mpeg1"');
  });
});
