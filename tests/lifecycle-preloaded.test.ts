import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { createTestManager } from "./support/lifecycle-manager.ts";
import { processGone } from "./support/lifecycle-proc.ts";
import { waitFor } from "./support/wait.ts";

// Process tests start real session servers (about 0.5 s each on a 2-core machine).
setDefaultTimeout(30_000);

describe("preloaded session servers", () => {
  it("hands a waiting server to the next app and replaces it at once", async () => {
    const t = createTestManager({ preloadedServers: 1 });
    const { manager } = t;
    // Step 1: one server is started ahead and waits in Uninitialised.
    const [preloaded] = await waitFor("a ready preloaded server", () => {
      const servers = manager.listPreloadedServers();
      return servers.length === 1 && servers[0]?.ready ? servers : undefined;
    });
    const preloadedPid = preloaded?.pid as number;
    // Step 2: the app takes it: same process, configured on demand, same sequence of states.
    await manager.initiateApplication("app1", "Active");
    expect(manager.listApplications()[0]?.pid).toBe(preloadedPid);
    await t.waitForState("app1", "Active");
    expect(t.statesOf("app1")).toEqual(["Uninitialised", "Active"]);
    expect(t.eventsOf("app1").slice(0, 4)).toEqual([
      "start_request:Active",
      "started",
      "ready:Uninitialised",
      "state_changed:Uninitialised",
    ]);
    // Step 3: a replacement is spawned once the taken server had a moment to configure alone.
    const replacement = await waitFor("a replacement preloaded server", () => {
      const servers = manager.listPreloadedServers();
      return servers.length === 1 && servers[0]?.pid !== preloadedPid ? servers[0] : undefined;
    });
    await waitFor("the replacement to be ready", () => manager.listPreloadedServers()[0]?.ready);
    // Step 4: close() stops the app and the waiting server.
    await t[Symbol.asyncDispose]();
    expect(processGone(preloadedPid)).toBe(true);
    expect(processGone(replacement.pid)).toBe(true);
  });

  it("spawns a fresh server for an app with its own environment and keeps the waiting one", async () => {
    await using t = createTestManager({ preloadedServers: 1 });
    const [preloaded] = await waitFor("a ready preloaded server", () => {
      const servers = t.manager.listPreloadedServers();
      return servers[0]?.ready ? servers : undefined;
    });
    await t.manager.initiateApplication("app1", "Inactive", { env: { APP_FLAVOUR: "plain" } });
    expect(t.manager.listApplications()[0]?.pid).not.toBe(preloaded?.pid);
    expect(t.manager.listPreloadedServers().map((server) => server.pid)).toEqual([
      preloaded?.pid as number,
    ]);
    await t.waitForState("app1", "Inactive");
  });

  it("replaces a waiting server that dies", async () => {
    await using t = createTestManager({ preloadedServers: 1 });
    const first = await waitFor(
      "a ready preloaded server",
      () => t.manager.listPreloadedServers()[0]?.ready && t.manager.listPreloadedServers()[0],
    );
    process.kill(first.pid, "SIGKILL");
    const second = await waitFor("a replacement", () => {
      const server = t.manager.listPreloadedServers()[0];
      return server !== undefined && server.pid !== first.pid && server.ready ? server : undefined;
    });
    expect(processGone(first.pid)).toBe(true);
    expect(t.states).toEqual([]);
    expect(second.pid).toBeGreaterThan(0);
  });
});
