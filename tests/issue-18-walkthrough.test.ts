import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { readFileSync } from "node:fs";
import { RialtoClient } from "@rialto/client";
import { loadDemoClip } from "../apps/demo-app/src/mp4/index.ts";
import { Mp4Player } from "../apps/demo-app/src/walkthrough/play-mp4.ts";
import { createTestManager } from "./support/lifecycle-manager.ts";
import { waitFor, within } from "./support/wait.ts";

// Real processes playing a 5 s clip in real time on a shared 2-core machine.
setDefaultTimeout(60_000);

const MS = 1_000_000;
const WALKTHROUGH = new URL("../apps/demo-app/src/walkthrough/play-mp4.ts", import.meta.url);
const DOC = new URL("../docs/walkthrough.md", import.meta.url);

describe("the 'play an MP4 in 60 lines' walkthrough (issue 18)", () => {
  it("is the code docs/walkthrough.md shows, verbatim", () => {
    const code = readFileSync(WALKTHROUGH, "utf8").trim();
    expect(readFileSync(DOC, "utf8")).toContain(code);
  });

  it("plays, seeks, pauses, and after the platform's Inactive → Active plays on to the end with no call", async () => {
    // Given: the platform starts the app Active and awaits it (docs: "The platform's side").
    await using t = createTestManager();
    await t.manager.initiateApplication("walkthrough", "Active", {
      playback: { clock: "realtime", sink: "checksum" },
    });
    await t.manager.waitForState("walkthrough", "Active");
    // Step 1: the app connects and plays, written only against the documented API.
    await using client = await RialtoClient.connect({
      socketPath: t.manager.getAppConnectionInfo("walkthrough"),
    });
    const movie = await loadDemoClip();
    const player = new Mp4Player(client, movie);
    const states: string[] = [];
    await player.play();
    player.pipeline?.on("playbackState", ({ state }) => states.push(state));
    await waitFor("playback past 300 ms", () => player.positionNs >= 300 * MS);
    expect(player.pipeline?.playbackState).toBe("Playing");

    // Step 2: a seek lands at its target and plays on by itself.
    await player.seek(3000 * MS);
    await waitFor("playback past 3.1 s", () => player.positionNs >= 3100 * MS);
    expect(states).toEqual(expect.arrayContaining(["Seeking", "SeekDone"]));
    expect(states.at(-1)).toBe("Playing");

    // Step 3: pause holds the position; play goes on.
    await player.pause();
    await waitFor("Paused", () => states.at(-1) === "Paused");
    const pausedAt = await player.pipeline?.getPosition();
    await Bun.sleep(100); // a span of time in which a playing pipeline would move on
    expect(await player.pipeline?.getPosition()).toBe(pausedAt);
    await player.play();
    await waitFor("Playing again", () => states.at(-1) === "Playing");

    // Step 4: the platform makes the app Inactive, then Active; the app makes no call.
    const beforeNs = player.positionNs;
    await t.changeState("walkthrough", "Inactive");
    await waitFor("the pipeline released", () => player.pipeline === undefined);
    await t.changeState("walkthrough", "Active");

    // Then: a new pipeline plays on from where the first stopped, to the end of the clip.
    await within(player.ended, "the walkthrough reaching EndOfStream", 20_000);
    expect(player.positionNs).toBeGreaterThanOrEqual(beforeNs);
    const endNs = (await player.pipeline?.getPosition()) ?? 0;
    expect(endNs).toBeGreaterThan(movie.durationNs - 100 * MS);
    // The new pipeline rendered only the frames after where the first one stopped.
    const video = movie.tracks.find((track) => track.type === "video");
    const after = video?.samples.filter((s) => s.timestampNs >= beforeNs).length ?? 0;
    const stats = await player.pipeline?.getStats(1);
    expect(stats?.renderedFrames).toBeGreaterThan(0);
    expect(stats?.renderedFrames).toBeLessThanOrEqual(after + 25);
  });
});
