import { describe, expect, it } from "bun:test";
import { TestApp } from "./support/rialto-app.ts";
import { eventually } from "./support/wait.ts";

describe("RialtoClient when its session server dies", () => {
  it("goes Unknown when the session server is killed, then registers afresh with the one the manager restarts", async () => {
    // Step 1: an Active app, a client Running with a pipeline.
    await using app = await TestApp.start({ manager: { restartOnFailure: true } });
    const client = await app.connect();
    const states: string[] = [];
    client.on("applicationState", (state) => states.push(state));
    await client.setApplicationState("Running");
    const pipeline = await client.createMediaPipeline();
    const firstId = client.clientId;
    const oldPid = app.pid;
    const oldMemory = client.sharedMemory;
    // Step 2: the session server is killed; the manager restarts it on the same socket, which
    // it kept listening (issue 15), so the client's reconnect is queued, not refused. The old
    // client id is unknown to the new server: the client is Unknown until it registered afresh
    // and was told the app's state again.
    process.kill(oldPid, "SIGKILL");
    await eventually(() => client.getStats().reregistrations === 1, "a fresh registration");
    await eventually(() => client.applicationState === "Running", "Running again");
    expect(app.pid).not.toBe(oldPid);
    expect(client.clientId).not.toBe(firstId);
    expect(states).toEqual(["Unknown", "Running"]);
    // Step 4: what lived in the dead server is gone; the new one serves everything again, and
    // the client mapped the new server's AV memory by itself (Rialto's client does too).
    expect(pipeline.lifecycle).toBe("released");
    expect(await client.ping(9)).toBe(9);
    await eventually(
      () => client.sharedMemory !== undefined && client.sharedMemory !== oldMemory,
      "the new AV memory mapped",
    );
    expect(client.sharedMemory?.memory.size).toBeGreaterThan(0);
    await (await client.createMediaPipeline()).destroy();
  }, 30_000);

  it("fails every pending call with CONNECTION_LOST at once when reconnecting gives up", async () => {
    await using app = await TestApp.start({ manager: { restartOnFailure: false } });
    const client = await app.connect({ reconnect: { initialDelayMs: 10, maxRetries: 2 } });
    const lost = new Promise<void>((resolve) =>
      client.on("applicationState", (state) => state === "Unknown" && resolve()),
    );
    process.kill(app.pid, "SIGKILL");
    const pending = client.ping(1).catch((error) => error);
    await lost;
    expect(await pending).toMatchObject({ code: "CONNECTION_LOST" });
    await expect(client.ping(2)).rejects.toMatchObject({ code: "CONNECTION_LOST" });
    expect(client.getStats().state).toBe("closed");
  }, 30_000);
});
