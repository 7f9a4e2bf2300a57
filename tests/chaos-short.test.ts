import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { readFileSync } from "node:fs";
import type { RialtoClient } from "@rialto/client";
import type { MonitorMessage, SessionServerState } from "@rialto/protocol";
import { ClipPlayer } from "../apps/demo-app/src/clip-player.ts";
import type { DemuxedMovie } from "../apps/demo-app/src/mp4/index.ts";
import { openFdTargets, processGone } from "./support/lifecycle-proc.ts";
import { demoClip } from "./support/pipeline-harness.ts";
import { TestApp } from "./support/rialto-app.ts";
import { waitFor } from "./support/wait.ts";

setDefaultTimeout(60_000);

/** Chaos rounds: bounded, so the run stays a few seconds long in CI. */
const ROUNDS = 4;

/** A small seeded generator (mulberry32), so a failing run can be replayed with its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * What an app does when its session server goes away under it: waits until it is Running
 * again, maps the AV memory, opens a new pipeline on the clip and plays; when the clip ends it
 * plays it again. Counts the position events it gets.
 */
class KeepPlaying {
  positions = 0;
  #running = true;
  readonly #done: Promise<void>;

  constructor(client: RialtoClient, movie: DemuxedMovie) {
    this.#done = this.#run(client, movie);
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#done;
  }

  async #run(client: RialtoClient, movie: DemuxedMovie): Promise<void> {
    while (this.#running) {
      let player: ClipPlayer | undefined;
      try {
        await waitFor("the app Running", () => client.applicationState === "Running", 30_000);
        if (client.sharedMemory === undefined) await client.setApplicationState("Running");
        player = await ClipPlayer.open(client, movie, {
          onPosition: () => this.positions++,
          onFeedError: () => {},
        });
        await player.play();
        await Promise.race([player.ended, waitFor("stop", () => !this.#running, 60_000)]);
      } catch {
        // The server died in the middle of a call: start over once it is back.
        await Bun.sleep(20);
      } finally {
        await player?.pipeline.destroy().catch(() => {});
      }
    }
  }
}

/** The test process's open fds and shared-memory mappings (the manager and client live here). */
function ownResources(): { fds: number; mappings: number } {
  const maps = readFileSync("/proc/self/maps", "utf8")
    .split("\n")
    .filter((line) => line.includes("/memfd:rialto"));
  return { fds: openFdTargets(process.pid).length, mappings: maps.length };
}

/** How many monitor events `event` of `appId` arrived. */
function monitorEvents(events: MonitorMessage[], appId: string, event: string): number {
  return events.filter((m) => m.type === "client_event" && m.appId === appId && m.event === event)
    .length;
}

describe("a short chaos run (issue 12, item 7)", () => {
  it("recovers a playing client from random kills and stops of its session server, reporting each, leaving nothing behind", async () => {
    const seed = Number(process.env.RIALTO_CHAOS_SEED ?? Date.now() % 100_000);
    const next = random(seed);
    // Given an Active app (restarted on failure, health-checked every 200 ms) and a client
    // playing the demo clip in real time, starting over whenever its server is replaced.
    await using app = await TestApp.start({
      config: { playback: { clock: "realtime", sink: "null" } },
      manager: { restartOnFailure: true, healthCheckIntervalMs: 200, failedPingsBeforeRecovery: 3 },
    });
    const states: SessionServerState[] = [];
    app.manager.on("stateChanged", (appId, state) => appId === app.appId && states.push(state));
    const events: MonitorMessage[] = [];
    const monitor = app.manager.addMonitor((message) => events.push(message));
    const client = await app.connect({
      reconnect: { initialDelayMs: 50, maxDelayMs: 200, maxRetries: 40 },
    });
    const movie = await demoClip();
    const keep = new KeepPlaying(client, movie);
    const playingAgain = async (what: string) => {
      const from = keep.positions;
      await waitFor(what, () => keep.positions >= from + 3, 20_000);
    };
    try {
      await playingAgain("the first playback");
      const before = ownResources();
      const actions: string[] = [];

      for (let round = 0; round < ROUNDS; round++) {
        // When the session server is killed, or stopped (SIGSTOP: it still holds its sockets
        // but answers nothing), at a random moment of the playback.
        await Bun.sleep(Math.floor(next() * 300));
        const pid = app.pid;
        const action = next() < 0.5 ? "SIGKILL" : "SIGSTOP";
        actions.push(action);
        const errorsBefore = states.filter((state) => state === "Error").length;
        // A crash is the server's doing; a hang is ended by the manager's kill.
        const expected = action === "SIGKILL" ? "stopped_by_itself" : "stopped_by_server";
        const stopsBefore = monitorEvents(events, app.appId, expected);
        process.kill(pid, action);

        // Then the failure is reported (Error, the monitor's stopped_by_itself or a hang kill),
        // the process is gone (no zombie), and the restarted server has the client playing again.
        await waitFor(
          `Error reported for round ${round} (${action})`,
          () => states.filter((state) => state === "Error").length > errorsBefore,
        );
        await waitFor(`pid ${pid} gone after ${action}`, () => processGone(pid));
        await waitFor(
          `${expected} after ${action}`,
          () => monitorEvents(events, app.appId, expected) > stopsBefore,
        );
        await app.waitForState("Active");
        await playingAgain(`playing again after round ${round} (${action})`);
      }

      // And every round shows in the monitor, and the manager and the client hold what they
      // held before the chaos: no fd, no mapping left over from the dead servers.
      expect(monitorEvents(events, app.appId, "restarted")).toBe(ROUNDS);
      expect(ownResources()).toEqual(before);
      console.log(`[chaos] seed ${seed}: ${actions.join(", ")}; ${keep.positions} positions`);
    } finally {
      monitor.close();
      await keep.stop();
    }
  });
});
