import { afterEach, describe, expect, it, setDefaultTimeout } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { RialtoClient } from "@rialto/client";
import { defineMethod, RequestEnvelope, SessionMethods } from "@rialto/protocol";
import {
  SESSION_SERVER_LAYOUT,
  ServerManager,
  sessionServerBuildStatus,
} from "@rialto/server-manager";
import { RawSessionClient } from "./support/raw-session-client.ts";

// Managers and session servers start for real.
setDefaultTimeout(30_000);

const SPY = fileURLToPath(new URL("./support/loaded-modules-spy.ts", import.meta.url));
const TYPEBOX_BUNDLE = "/dist/rialto-session-server-typebox.js";
const fresh = sessionServerBuildStatus().fresh;
const cleanup: string[] = [];

afterEach(() => {
  for (const path of cleanup.splice(0)) rmSync(path, { recursive: true, force: true });
});

interface Loaded {
  modules: string[];
  replay: { recorded: number; replayed: number; live: number };
}

/** A manager running the built session server with the spy preloaded. */
function givenManager(): ServerManager {
  const runtimeDir = mkdtempSync(join(tmpdir(), "rialto-typebox-aot-"));
  cleanup.push(runtimeDir);
  return new ServerManager({
    runtimeDir,
    healthCheckIntervalMs: 20,
    sessionServerCommand: [process.execPath, "--preload", SPY, SESSION_SERVER_LAYOUT.built],
  });
}

/** Stops `appId` and returns what its session server had loaded when it exited. */
async function stopAndReadLoaded(manager: ServerManager, appId: string): Promise<Loaded> {
  const pid = manager.listApplications().find((app) => app.appId === appId)?.pid;
  expect(pid).toBeNumber();
  await manager.changeSessionServerState(appId, "NotRunning");
  await manager.waitForState(appId, "NotRunning");
  const file = join(tmpdir(), `rialto-loaded-modules-${pid}.json`);
  cleanup.push(file);
  return JSON.parse(readFileSync(file, "utf8")) as Loaded;
}

describe.skipIf(!fresh)("the session server's bundle, TypeBox ahead of time (issue 15)", () => {
  it("reaches Inactive and answers health checks without loading TypeBox", async () => {
    await using manager = givenManager();
    await manager.initiateApplication("idle", "Inactive");
    await manager.waitForState("idle", "Inactive");
    const pid = manager.listApplications()[0]?.pid;
    await new Promise<void>((resolve) => {
      let answered = 0;
      manager.on("pingAnswered", (from) => {
        if (from === pid && ++answered === 3) resolve();
      });
    });
    const loaded = await stopAndReadLoaded(manager, "idle");
    expect(loaded.modules).toContain(SESSION_SERVER_LAYOUT.built);
    expect(loaded.modules.filter((module) => module.endsWith(TYPEBOX_BUNDLE))).toEqual([]);
    // Every builder call the bundle made at load was answered from the recording.
    expect(loaded.replay.recorded).toBeGreaterThan(100);
    expect(loaded.replay).toEqual({
      recorded: loaded.replay.recorded,
      replayed: loaded.replay.recorded,
      live: 0,
    });
  });

  it("loads TypeBox for a client, whose bad message still gets its detailed error", async () => {
    await using manager = givenManager();
    await manager.initiateApplication("served", "Active");
    await manager.waitForState("served", "Active");
    const socketPath = manager.getAppConnectionInfo("served");
    {
      await using client = await RialtoClient.connect({ socketPath });
      await client.setApplicationState("Running");
      const pipeline = await client.createMediaPipeline();
      await pipeline.destroy();
    }
    {
      await using raw = await RawSessionClient.connect(socketPath);
      // The caller's own check let through: only the session server's can refuse it.
      const anything = RequestEnvelope.properties.params;
      const unchecked = defineMethod(SessionMethods.ping.name, anything, anything);
      await expect(raw.peer.call(unchecked, { value: 1, colour: "red" })).rejects.toMatchObject({
        code: "INVALID_ARGUMENT",
        message: expect.stringContaining('unknown property "colour"'),
      });
    }
    const loaded = await stopAndReadLoaded(manager, "served");
    expect(loaded.modules.filter((module) => module.endsWith(TYPEBOX_BUNDLE))).toHaveLength(1);
    expect(loaded.replay.live).toBe(0);
  });
});
