import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { createTestManager, HOSTILE_SESSION_SERVER, pidOf } from "./support/lifecycle-manager.ts";
import { processGone } from "./support/lifecycle-proc.ts";
import { waitFor } from "./support/wait.ts";

setDefaultTimeout(30_000);

describe("the manager's control channel against a hostile session server (issue 12, item 6)", () => {
  it("answers deep frames without stalling, kills a server that leaves a frame unfinished, and keeps serving the other apps", async () => {
    // Given a manager whose session servers attack it when configured for "deep" or "partial"
    // (any other app behaves), with a fast health check and no restarts.
    await using t = createTestManager({
      sessionServerCommand: HOSTILE_SESSION_SERVER,
      healthCheckIntervalMs: 200,
      failedPingsBeforeRecovery: 3,
      restartOnFailure: false,
    });
    await t.givenApp("calm", "Inactive");
    const rssBefore = process.memoryUsage.rss() / 1024 / 1024;

    // When one server sends 30 bodies nested 60,000 deep and another sends all of a 1 MiB frame
    // but one byte and then falls silent.
    await t.givenApp("deep", "Active");
    await t.manager.initiateApplication("partial", "Active");
    await t.waitForState("partial", "Active");
    const partialPid = pidOf(t.manager, "partial") as number;

    // Then the manager still answers at once: the calm app changes state promptly.
    const started = performance.now();
    await t.changeState("calm", "Active");
    expect(performance.now() - started).toBeLessThan(2000);
    // The silent one is found hung by the health check, killed and reported Error (the bytes it
    // held are dropped with its channel); nothing of it is left.
    await t.waitForState("partial", "NotRunning");
    expect(t.statesOf("partial")).toEqual(["Uninitialised", "Active", "Error", "NotRunning"]);
    expect(t.manager.getTerminationReason("partial")?.kind).toMatch(/hung|channel-broken/);
    await waitFor("the killed server to be gone", () => processGone(partialPid));
    // The deep one answered its pings all along: still Active after several health checks.
    const checksDone = performance.now() + 1000;
    await waitFor("a second of health checks", () => performance.now() > checksDone);
    expect(t.manager.getState("deep")).toBe("Active");
    expect(t.statesOf("deep")).toEqual(["Uninitialised", "Active"]);
    // And the manager's own memory did not take the attack in (a megabyte was held at most).
    const rssAfter = process.memoryUsage.rss() / 1024 / 1024;
    expect(rssAfter - rssBefore).toBeLessThan(64);
  });
});
