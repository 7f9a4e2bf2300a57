import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { clipUntil, givenClipPlayer, runningAppsPerTest } from "./support/pipeline-harness.ts";
import { eventually, within } from "./support/wait.ts";

// Real processes on a shared 2-core machine: bun's 5 s default is too tight under load.
setDefaultTimeout(30_000);

const MS = 1_000_000;
const givenRunningApp = runningAppsPerTest();

/** Connects to `path` over and over (each connection closed at once) until stopped. */
function connectProbe(path: string) {
  const counts = { connected: 0, refused: 0, errors: [] as string[] };
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const socket = await Bun.connect({ unix: path, socket: { data() {} } });
        counts.connected++;
        socket.end();
      } catch (error) {
        counts.refused++;
        counts.errors.push(String((error as { code?: string }).code ?? error));
      }
      await Bun.sleep(2);
    }
  })();
  return {
    counts,
    async stop() {
      running = false;
      await loop;
      return counts;
    },
  };
}

describe("the manager owns each app's listening socket (issue 15, SPEC 3 sequence 5)", () => {
  it("a client playing when its session server is killed reconnects on the same path with no refused connect, and playback resumes", async () => {
    // Step 1: an Active app on the realtime clock and a Running client playing the demo clip.
    const { app, client } = await givenRunningApp({ clock: "realtime" });
    const socketPath = app.socketPath;
    const movie = await clipUntil(1500 * MS);
    const { player, log } = await givenClipPlayer(client, { movie });
    await player.play();
    const reached = await log.next("position", (p) => p.positionNs >= 300 * MS);
    const oldPid = app.pid;

    // Step 2: something connects to the app's socket over and over, from before the kill until
    // the new session server serves the client again.
    const probe = connectProbe(socketPath);
    await eventually(() => probe.counts.connected >= 3, "the probe connecting");
    process.kill(oldPid, "SIGKILL");

    // Step 3: the manager restarts the session server on the socket it kept; the client's
    // reconnect is queued, not refused, and it registers afresh on the same path.
    await eventually(() => client.getStats().reregistrations === 1, "a fresh registration");
    await eventually(() => client.applicationState === "Running", "Running again");
    expect(app.pid).not.toBe(oldPid);
    expect(app.manager.getAppConnectionInfo(app.appId)).toBe(socketPath);
    expect(await client.ping(7)).toBe(7);
    const probed = await probe.stop();
    expect(probed.errors).toEqual([]);
    expect(probed.refused).toBe(0);
    expect(probed.connected).toBeGreaterThan(3);

    // Step 4: what lived in the dead server is gone; the app makes a new pipeline, seeks to
    // where playback was and plays on to the end.
    expect(player.pipeline.lifecycle).toBe("released");
    const resumed = await givenClipPlayer(client, { movie });
    await resumed.log.state("Paused");
    await resumed.player.seek(reached.payload.positionNs);
    await resumed.player.play();
    expect(await within(resumed.player.ended, "EndOfStream")).toBe("EndOfStream");
    const positions = resumed.log.all("position").map((e) => e.payload.positionNs);
    expect(Math.min(...positions)).toBeGreaterThanOrEqual(reached.payload.positionNs - 50 * MS);
    for (const { stats } of await resumed.player.outcomes()) {
      expect(stats.renderedFrames).toBeGreaterThan(0);
    }
  });
});
