import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { RialtoClient } from "@rialto/client";
import {
  createTestManager,
  SILENT_SESSION_SERVER,
  stalledSessionServer,
} from "./support/lifecycle-manager.ts";
import { rejection } from "./support/rejection.ts";

// Process tests start real session servers (about 0.5 s each on a 2-core machine).
setDefaultTimeout(30_000);

describe("awaiting an app's state (issue 18)", () => {
  it("lets a caller await Active right after initiateApplication, then connect at once", async () => {
    await using t = createTestManager();
    // Step 1: initiate and await the state instead of listening for stateChanged.
    await t.manager.initiateApplication("first-hour", "Active");
    await t.manager.waitForState("first-hour", "Active", { timeoutMs: 10_000 });
    expect(t.manager.getState("first-hour")).toBe("Active");
    // Step 2: the client socket exists: connect and see Running.
    await using client = await RialtoClient.connect({
      socketPath: t.manager.getAppConnectionInfo("first-hour"),
      connectRetryMs: 0,
    });
    expect(client.applicationState).toBe("Running");
    // Step 3: a state already reached resolves at once; NotRunning resolves when forgotten.
    await t.manager.waitForState("first-hour", "Active", { timeoutMs: 0 });
    await t.manager.changeSessionServerState("first-hour", "NotRunning");
    await t.manager.waitForState("first-hour", "NotRunning");
    expect(t.manager.getState("first-hour")).toBeUndefined();
  });

  it("rejects TIMEOUT naming the state the app is stuck in", async () => {
    await using t = createTestManager({
      sessionServerCommand: stalledSessionServer("state"),
      transitionTimeoutMs: 2000,
    });
    await t.givenApp("stuck", "Inactive");
    // The stalled server accepts SetState(Active) and never reports it.
    const change = t.manager.changeSessionServerState("stuck", "Active").catch((e) => e);
    const error = await rejection(t.manager.waitForState("stuck", "Active", { timeoutMs: 300 }));
    expect(error.code).toBe("TIMEOUT");
    expect(error.message).toContain(`"stuck" did not reach Active within 300 ms (it is Inactive)`);
    await change;
  });

  it("rejects INVALID_STATE with the reason when the app fails on the way", async () => {
    await using t = createTestManager({
      sessionServerCommand: SILENT_SESSION_SERVER,
      readyTimeoutMs: 300,
      restartOnFailure: false,
    });
    await t.manager.initiateApplication("silent", "Active");
    const error = await rejection(t.manager.waitForState("silent", "Active"));
    expect(error.code).toBe("INVALID_STATE");
    expect(error.message).toContain(`"silent" went to Error while waiting for Active`);
    expect(error.message).toContain("ready-timeout");
  });

  it("rejects UNKNOWN_APP for an app never started and INVALID_ARGUMENT for a bad state", async () => {
    await using t = createTestManager();
    expect((await rejection(t.manager.waitForState("nobody", "Active"))).code).toBe("UNKNOWN_APP");
    await t.manager.waitForState("nobody", "NotRunning");
    expect(() => t.manager.waitForState("nobody", "Running" as "Active")).toThrow(
      /state "Running" must be one of Uninitialised, Inactive, Active, NotRunning, Error/,
    );
  });
});

describe("RialtoClient.connect before the session server listens (issue 18)", () => {
  it("retries while the socket is not there yet and connects once the app is up", async () => {
    await using t = createTestManager();
    const socketPath = `${t.runtimeDir}/late.sock`;
    // Step 1: the app connects first, as an app launched alongside its session server would.
    const connecting = RialtoClient.connect({ socketPath, connectRetryMs: 10_000 });
    // Step 2: the platform starts the app afterwards, without awaiting anything.
    await t.manager.initiateApplication("late", "Active", {
      sessionManagementSocketName: socketPath,
    });
    await using client = await connecting;
    expect(await client.ping(7)).toBe(7);
  });

  it("fails after connectRetryMs naming the likely cause", async () => {
    const dir = mkdtempSync("/tmp/rialto-nobody-");
    try {
      const started = performance.now();
      const error = await rejection(
        RialtoClient.connect({ socketPath: `${dir}/app.sock`, connectRetryMs: 300 }),
      );
      expect(performance.now() - started).toBeGreaterThanOrEqual(290);
      expect(error.code).toBe("CONNECTION_LOST");
      expect(error.message).toContain(`nothing listens on ${dir}/app.sock after 300 ms (ENOENT`);
      expect(error.message).toContain("Is the app started (ServerManager.initiateApplication)");
      expect(error.message).toContain('waitForState(appId, "Active")');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
