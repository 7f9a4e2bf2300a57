import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { presentedSamples, trackChecksum } from "../apps/demo-app/src/mp4/index.ts";
import { clipUntil, givenClipPlayer, runningAppsPerTest } from "./support/pipeline-harness.ts";
import { within } from "./support/wait.ts";

// Real processes on a shared 2-core machine: bun's 5 s default is too tight under load.
setDefaultTimeout(30_000);

const MS = 1_000_000;

const givenRunningApp = runningAppsPerTest();

async function runningApp() {
  return (await givenRunningApp({ clock: "realtime" })).client;
}

/** Positions must never go backwards (a seek aside). */
function expectNonDecreasing(positions: readonly number[]): void {
  for (let i = 1; i < positions.length; i++) {
    expect(positions[i] as number).toBeGreaterThanOrEqual(positions[i - 1] as number);
  }
}

describe("a pipeline on the realtime clock (real session server)", () => {
  it("plays a short cut to EndOfStream no sooner than its media time, then stops the clock", async () => {
    const client = await runningApp();
    const movie = await clipUntil(600 * MS);
    const { player, log } = await givenClipPlayer(client, { movie });
    await log.state("Paused");

    const started = performance.now();
    await player.play();
    expect(await within(player.ended, "EndOfStream")).toBe("EndOfStream");
    const elapsedMs = performance.now() - started;

    // The last frame ends at about 600 ms of media time; at rate 1 that takes as long.
    const lastEndNs = Math.max(
      ...movie.tracks.map((t) => Math.max(...t.samples.map((s) => s.timestampNs + s.durationNs))),
    );
    expect(elapsedMs).toBeGreaterThanOrEqual(lastEndNs / MS - 50);
    expect(log.states()).toEqual(["Paused", "Playing", "EndOfStream"]);
    const atEnd = await player.pipeline.getPosition();
    expect(atEnd).toBeGreaterThanOrEqual(lastEndNs - 1 * MS);
    for (const { track, stats } of await player.outcomes()) {
      // The AAC priming sample (before 0, flagged discard) is clipped: neither rendered nor dropped.
      const presented = presentedSamples(track.samples);
      expect(stats.renderedFrames + stats.droppedFrames).toBe(presented.length);
      // Frames are dropped only when a busy machine fed them too late.
      if (stats.droppedFrames === 0) expect(stats.checksum).toBe(trackChecksum(presented));
    }
    // The clock stopped: the position stays put.
    expect(await player.pipeline.getPosition()).toBe(atEnd);
  });

  it("keeps the position monotonic across pause and resume, and still while paused", async () => {
    const client = await runningApp();
    const { player, log } = await givenClipPlayer(client);
    await player.play();
    await log.next("position", (p) => p.positionNs >= 400 * MS);

    // When: paused, the position holds for as long as we look.
    await player.pipeline.pause();
    const pausedAt = await player.pipeline.getPosition();
    const watchUntil = performance.now() + 300;
    while (performance.now() < watchUntil) {
      expect(await player.pipeline.getPosition()).toBe(pausedAt);
      await Bun.sleep(10);
    }

    // When: resumed, it goes on from there.
    const resumedFrom = log.events.length;
    await player.pipeline.play();
    await log.next("position", (p) => p.positionNs >= pausedAt + 300 * MS, { from: resumedFrom });
    const afterResume = await player.pipeline.getPosition();

    expect(afterResume).toBeGreaterThan(pausedAt);
    expect(log.states()).toEqual(["Paused", "Playing", "Paused", "Playing"]);
    expectNonDecreasing([...log.all("position").map((e) => e.payload.positionNs), afterResume]);
    expect(log.all("position").some((e) => e.payload.positionNs > pausedAt)).toBe(true);
  });

  it("plays at rate 2.0: the position runs twice as fast as the wall clock, every sample processed", async () => {
    const client = await runningApp();
    const { player, log } = await givenClipPlayer(client);
    await log.state("Paused");
    await player.pipeline.setPlaybackRate(2);
    await player.play();
    expect(await within(player.ended, "EndOfStream at rate 2")).toBe("EndOfStream");

    // Between the first and the last position event, media time / wall time is about 2.
    const positions = log.all("position");
    const first = positions[0];
    const last = positions.at(-1);
    if (first === undefined || last === undefined || first === last) {
      throw new Error("too few position events");
    }
    const rate =
      (last.payload.positionNs - first.payload.positionNs) / MS / (last.atMs - first.atMs);
    expect(rate).toBeGreaterThan(1.6);
    expect(rate).toBeLessThan(2.5);
    // Every sample was processed: rendered, or (on a machine too busy to feed 24 frames ahead
    // at twice the speed) dropped as late and reported with qos.
    for (const { track, stats } of await player.outcomes()) {
      expect(stats.renderedFrames + stats.droppedFrames).toBe(
        presentedSamples(track.samples).length,
      );
      if (stats.droppedFrames > 0) expect(log.all("qos").length).toBeGreaterThan(0);
    }
  });

  it("reports bufferUnderflow for each source when the app stops feeding, and keeps Playing", async () => {
    const client = await runningApp();
    const { player, log } = await givenClipPlayer(client);
    // The app feeds up to 1 s of media, then answers no more needMediaData.
    for (const feeder of player.feeders) feeder.holdAt(1000 * MS);
    await player.play();

    const sources = player.feeders.map((f) => f.sourceId).toSorted();
    for (const sourceId of sources) {
      await log.next("bufferUnderflow", (p) => p.sourceId === sourceId);
    }
    expect(player.feeders.every((f) => f.holding)).toBe(true);
    const underflows = log.all("bufferUnderflow").map((e) => e.payload.sourceId);
    expect(underflows.toSorted()).toEqual(sources);
    // It ran dry at the end of what was fed, about 1 s in.
    const position = await player.pipeline.getPosition();
    expect(position).toBeGreaterThanOrEqual(900 * MS);
    expect(player.pipeline.playbackState).toBe("Playing");
    expect(log.states()).not.toContain("EndOfStream");
  });
});
