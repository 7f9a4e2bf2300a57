import { expect, setDefaultTimeout } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { RialtoError } from "@rialto/protocol";
import decodedGolden from "../apps/demo-app/media/decoded.json";
import { checkOutcomes, expectedDecoded } from "../apps/demo-app/src/checksum-report.ts";
import type { DecodedReference } from "../apps/demo-app/src/decoded-reference.ts";
import { describeWithGstreamer } from "./support/gstreamer.ts";
import { openFdTargets, processGone } from "./support/lifecycle-proc.ts";
import { givenClipPlayer, runningAppsPerTest } from "./support/pipeline-harness.ts";
import { eventually, within } from "./support/wait.ts";

// Real processes and real decoders on a shared 2-core machine.
setDefaultTimeout(120_000);

const givenRunningApp = runningAppsPerTest();
const golden: DecodedReference = { source: "golden", ...decodedGolden };
const decoding = { decodeOrder: true } as const;
const PLAYER_CLIENT = fileURLToPath(
  new URL("./support/gstreamer-player-client.ts", import.meta.url),
);

/** Threads and resident memory of a process, from /proc. */
function processFigures(pid: number): { threads: number; rssKiB: number; fds: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(status)?.[1]);
  return { threads: field("Threads"), rssKiB: field("VmRSS"), fds: openFdTargets(pid).length };
}

describeWithGstreamer("GStreamer pipelines are torn down cleanly (real session server)", (it) => {
  it("Active → Inactive mid-playback releases the pipeline; Active again plays the clip bit-exact", async () => {
    // Given: a GStreamer app whose pipeline has played up to the middle and starves there.
    const { app, client } = await givenRunningApp({ engine: "gstreamer", clock: "freerun" });
    const { player, log } = await givenClipPlayer(client, decoding);
    for (const feeder of player.feeders) feeder.holdAt(player.movie.durationNs / 2);
    await player.play();
    await eventually(() => player.feeders.every((f) => f.holding), "feeders holding");

    // When: the application manager makes the app Inactive.
    await app.setState("Inactive");

    // Then: the pipeline is stopped and released; the client learns its state.
    expect(await within(player.ended, "release")).toBe("released");
    expect(log.states()).toContain("Stopped");
    await eventually(() => client.applicationState === "Inactive", "client Inactive");

    // When: Active again, the app plays the whole clip on a new pipeline.
    await app.setState("Active");
    await client.setApplicationState("Running");
    const again = await givenClipPlayer(client, decoding);
    await again.player.play();
    expect(await within(again.player.ended, "EndOfStream")).toBe("EndOfStream");
    expect(
      checkOutcomes(await again.player.outcomes(), expectedDecoded(golden)).every((c) => c.ok),
    ).toBe(true);
  });

  it("a client killed mid-stream loses its pipeline after the grace period; the next client plays", async () => {
    // Given: one playback session, a 300 ms grace period, and a client process holding it.
    const { app, client } = await givenRunningApp({
      engine: "gstreamer",
      clock: "freerun",
      env: { RIALTO_CLIENT_GRACE_MS: "300" },
    });
    const child = Bun.spawn([process.execPath, PLAYER_CLIENT, app.socketPath], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      const line = await within(
        (async () => {
          const decoder = new TextDecoder();
          let text = "";
          for await (const chunk of child.stdout) {
            text += decoder.decode(chunk, { stream: true });
            if (text.includes("\n")) return text;
          }
          throw new Error(`player client ${child.pid} exited before it held`);
        })(),
        "the player client holding mid-stream",
      );
      expect(JSON.parse(line).pipelineId).toBeGreaterThan(0);
      const serverPid = app.pid;

      // When: the client dies without a word.
      child.kill("SIGKILL");
      await child.exited;

      // Then: the session server lives on, and once the grace period ended the playback session
      // is free again: the other client creates a pipeline and plays the clip bit-exact.
      expect(await client.ping(1)).toBe(1);
      let player: Awaited<ReturnType<typeof givenClipPlayer>>["player"] | undefined;
      // Until the grace period ends, the one playback session is the dead client's.
      const deadline = performance.now() + 10_000;
      while (player === undefined) {
        try {
          ({ player } = await givenClipPlayer(client, decoding));
        } catch (error) {
          if (!(error instanceof RialtoError) || error.code !== "RESOURCE_EXHAUSTED") throw error;
          if (performance.now() > deadline) throw error;
          await Bun.sleep(50);
        }
      }
      await player.play();
      expect(await within(player.ended, "EndOfStream")).toBe("EndOfStream");
      expect(
        checkOutcomes(await player.outcomes(), expectedDecoded(golden)).every((c) => c.ok),
      ).toBe(true);
      expect(app.pid).toBe(serverPid);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      await child.exited;
    }
  });

  it("100 create/preroll/destroy cycles leave fds, threads and memory flat and no GStreamer object alive", async () => {
    const traceDir = mkdtempSync("/tmp/rialto-gst-leaks-");
    const traceFile = join(traceDir, "gst.log");
    try {
      // Given: a session server running GStreamer's own leak tracer.
      const { app, client } = await givenRunningApp({
        engine: "gstreamer",
        clock: "freerun",
        env: {
          GST_TRACERS: "leaks",
          GST_DEBUG: "GST_TRACER:7,GST_INIT:4",
          GST_DEBUG_FILE: traceFile,
          GST_DEBUG_NO_COLOR: "1",
        },
      });
      const pid = app.pid;
      const cycle = async () => {
        const { player, log } = await givenClipPlayer(client, decoding);
        await log.state("Paused");
        await player.pipeline.destroy();
      };

      // When: 100 pipelines are built, prerolled (decoders loaded, first frames decoded) and
      // destroyed; the figures are taken after 10 (everything loaded) and after 100.
      for (let i = 0; i < 10; i++) await cycle();
      const warm = processFigures(pid);
      for (let i = 10; i < 100; i++) await cycle();
      const after = processFigures(pid);

      // Then: nothing grows with the number of pipelines.
      expect(after.fds).toBe(warm.fds);
      expect(after.threads).toBeLessThanOrEqual(warm.threads + 2);
      expect(after.rssKiB - warm.rssKiB).toBeLessThan(24 * 1024);

      // And GStreamer's leak tracer, run at the session server's clean exit, finds nothing.
      await app.manager.changeSessionServerState(app.appId, "NotRunning");
      await eventually(() => processGone(pid), "session server exit");
      const trace = readFileSync(traceFile, "utf8");
      // The tracer reports when GStreamer is deinitialised: it was.
      expect(trace).toContain("deinitialized GStreamer");
      // One "object-alive" record per leaked object (the format line is not one).
      expect(trace.split("\n").filter((l) => l.includes(":: object-alive, "))).toEqual([]);
    } finally {
      rmSync(traceDir, { recursive: true, force: true });
    }
  });
});
