import { describe, expect, it, setDefaultTimeout } from "bun:test";
import type { SessionServerState } from "@rialto/protocol";
import pino from "pino";
import { clipUntil, givenClipPlayer } from "./support/pipeline-harness.ts";
import { TestApp } from "./support/rialto-app.ts";
import { eventually, waitFor, within } from "./support/wait.ts";

// Real processes on a shared 2-core machine.
setDefaultTimeout(60_000);

const MS = 1_000_000;

/** The app's session server pid, or undefined while it is parked (no process). */
const pidOf = (app: TestApp) =>
  app.manager.listApplications().find((info) => info.appId === app.appId)?.pid;

describe("parking Inactive apps with no client (issue 15, parkInactiveAfterMs)", () => {
  it("a parked app has no process; a client connecting wakes it unawares, and it plays once Active", async () => {
    await using app = await TestApp.start({
      state: "Inactive",
      manager: { parkInactiveAfterMs: 100 },
    });
    const states: SessionServerState[] = [];
    app.manager.on("stateChanged", (appId, state) => appId === app.appId && states.push(state));
    const firstPid = pidOf(app);
    expect(firstPid).toBeNumber();

    // Given: no client for 100 ms, the app is parked: its session server exits, the app stays
    // Inactive on the same socket path.
    await waitFor("the app parked", () => pidOf(app) === undefined);
    expect(app.manager.getState(app.appId)).toBe("Inactive");
    await eventually(() => {
      try {
        process.kill(firstPid as number, 0);
        return false;
      } catch {
        return true;
      }
    }, "the parked session server gone");

    // When: a client connects: it registers with a session server started for it, Inactive.
    const client = await app.connect();
    expect(client.applicationState).toBe("Inactive");
    const wokenPid = pidOf(app);
    expect(wokenPid).toBeNumber();
    expect(wokenPid).not.toBe(firstPid);

    // Then: the session server tells the manager of its client, so the app is not parked again
    // (parking needs no client); once Active it plays.
    await waitFor("the client reported", () => app.manager.getAppStats(app.appId)?.clients === 1);
    expect(pidOf(app)).toBe(wokenPid);
    await app.setState("Active");
    await eventually(() => client.applicationState === "Running", "client Running");
    const { player } = await givenClipPlayer(client, { movie: await clipUntil(500 * MS) });
    await player.play();
    expect(await within(player.ended, "EndOfStream")).toBe("EndOfStream");
    // The app manager saw only Inactive → Active: parking and waking are invisible.
    expect(states).toEqual(["Active"]);
  });

  it("a parked app made Active starts its session server Active", async () => {
    await using app = await TestApp.start({
      state: "Inactive",
      manager: { parkInactiveAfterMs: 50 },
    });
    await waitFor("the app parked", () => pidOf(app) === undefined);
    await app.setState("Active");
    expect(pidOf(app)).toBeNumber();
    const client = await app.connect();
    await eventually(() => client.applicationState === "Running", "client Running");
  });

  it("a connection the manager has not heard of keeps the session server: control/park is refused, nothing dropped", async () => {
    const refusals: { reason?: string }[] = [];
    const logger = pino(
      { level: "info" },
      {
        write: (line: string) => {
          const entry = JSON.parse(line) as { msg: string; reason?: string };
          if (entry.msg === "not parked: the session server is in use") refusals.push(entry);
        },
      },
    );
    await using app = await TestApp.start({
      state: "Inactive",
      // The manager's info lines carry the refusals; the session server's stay quiet.
      manager: { parkInactiveAfterMs: 20, logger, logLevel: "info" },
      config: { logLevel: "error" },
      // The connection below never registers; it must outlive the test, not the default 5 s.
      env: { RIALTO_REGISTRATION_TIMEOUT_MS: "60000" },
    });

    // Given: a connection that never registers, so no client counts it in the session server's
    // reports, and the manager keeps asking it to park (every 20 ms).
    let closed = false;
    const socket = await Bun.connect({
      unix: app.manager.getAppConnectionInfo(app.appId),
      socket: {
        data() {},
        close() {
          closed = true;
        },
      },
    });
    await waitFor("a refusal", () => refusals.length >= 1);
    const pid = pidOf(app);
    expect(pid).toBeNumber();

    // Then: every time, the session server refuses, naming the connection; it keeps running and
    // the connection stays open.
    const seen = refusals.length;
    await waitFor("three more refusals", () => refusals.length >= seen + 3);
    expect(refusals.at(-1)?.reason).toStartWith("in use: 1 connection(s)");
    expect(pidOf(app)).toBe(pid);
    expect(closed).toBe(false);
    expect(app.manager.getState(app.appId)).toBe("Inactive");

    // Once the connection is gone, the app is parked.
    socket.end();
    await waitFor("the app parked", () => pidOf(app) === undefined);
  });
});
