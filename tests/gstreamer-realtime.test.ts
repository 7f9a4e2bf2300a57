import { expect, setDefaultTimeout } from "bun:test";
import { describeWithGstreamer } from "./support/gstreamer.ts";
import { givenClipPlayer, runningAppsPerTest } from "./support/pipeline-harness.ts";
import { within } from "./support/wait.ts";

// Real processes and real decoders on a shared 2-core machine.
setDefaultTimeout(60_000);

const MS = 1_000_000;
const givenRunningApp = runningAppsPerTest();
const decoding = { decodeOrder: true } as const;

describeWithGstreamer("the GStreamer engine on the pipeline clock (real session server)", (it) => {
  it("the position follows the wall clock while playing, holds while paused, and runs at the set rate", async () => {
    // Given: a prerolled pipeline on the realtime clock (sinks sync to GStreamer's clock).
    const { client } = await givenRunningApp({ engine: "gstreamer", clock: "realtime" });
    const { player, log } = await givenClipPlayer(client, decoding);
    await log.state("Paused");

    // When: playing for a while.
    await player.play();
    await log.state("Playing");
    const startedAt = performance.now();
    const startNs = await player.pipeline.getPosition();
    await log.next("position", (p) => p.positionNs >= 700 * MS);
    const wallMs = performance.now() - startedAt;
    const playedNs = (await player.pipeline.getPosition()) - startNs;
    // Then: media time advanced as wall time did (never ahead of it; a loaded machine may lag).
    expect(playedNs / MS).toBeLessThanOrEqual(wallMs + 60);
    expect(playedNs / MS).toBeGreaterThanOrEqual(wallMs - 300);

    // When: paused, the position holds.
    await player.pipeline.pause();
    await log.state("Paused", { from: log.events.length - 1 });
    // Sampled over a few round trips, 50 ms apart: the position does not move while paused.
    const pausedAt = await player.pipeline.getPosition();
    for (let i = 0; i < 4; i++) {
      await Bun.sleep(50);
      expect(await player.pipeline.getPosition()).toBe(pausedAt);
    }

    // When: playing at twice the rate, media time runs twice as fast as the wall clock.
    await player.pipeline.setPlaybackRate(2);
    await player.play();
    await log.state("Playing", { from: log.events.length - 1 });
    const fastFrom = await player.pipeline.getPosition();
    const fastStarted = performance.now();
    await log.next("position", (p) => p.positionNs >= fastFrom + 800 * MS);
    const fastWallMs = performance.now() - fastStarted;
    const fastMediaMs = ((await player.pipeline.getPosition()) - fastFrom) / MS;
    expect(fastMediaMs / fastWallMs).toBeGreaterThan(1.5);
    expect(fastMediaMs / fastWallMs).toBeLessThan(2.3);

    // And it plays on to the end.
    expect(await within(player.ended, "EndOfStream")).toBe("EndOfStream");
    expect(log.all("playbackError")).toEqual([]);
  });

  it("a starved source in real time reports bufferUnderflow, and playback resumes when data comes", async () => {
    const { client } = await givenRunningApp({ engine: "gstreamer", clock: "realtime" });
    const { player, log } = await givenClipPlayer(client, decoding);
    const video = player.feeders.find((f) => f.track.type === "video");
    if (video === undefined) throw new Error("the clip has a video track");
    video.holdAt(1_000 * MS);
    await player.play();

    // The held video starves (a loaded machine may starve the audio for a moment too).
    const underflow = await log.next("bufferUnderflow", (e) => e.sourceId === video.sourceId);
    expect(underflow.payload.sourceId).toBe(video.sourceId);
    await video.resume();
    expect(await within(player.ended, "EndOfStream")).toBe("EndOfStream");
  });
});
