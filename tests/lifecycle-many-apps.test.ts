import { describe, expect, it } from "bun:test";
import { statSync } from "node:fs";
import { createTestManager } from "./support/lifecycle-manager.ts";
import { avMemfdCount, processGone, socketFilesIn } from "./support/lifecycle-proc.ts";
import { waitFor } from "./support/wait.ts";

const APPS = 20;
/** 20 session servers starting at once share 2 cores with other test runs: be generous. */
const DEADLINE_MS = 90_000;

describe("twenty apps at once (real session servers)", () => {
  it(
    "brings 20 apps to Active together, lists them all, stops them all and leaves no process",
    async () => {
      await using t = createTestManager({
        readyTimeoutMs: DEADLINE_MS,
        transitionTimeoutMs: DEADLINE_MS,
      });
      const { manager } = t;
      const appIds = Array.from({ length: APPS }, (_, i) => `app${String(i + 1).padStart(2, "0")}`);
      // Step 1: every app is initiated without waiting for the others.
      await Promise.all(appIds.map((appId) => manager.initiateApplication(appId, "Active")));
      await waitFor(
        "every app to be Active",
        () => appIds.every((appId) => manager.getState(appId) === "Active"),
        DEADLINE_MS,
      );
      // Step 2: all listed, each with its own process, socket and shared memory.
      const listed = manager.listApplications();
      expect(listed.map((app) => [app.appId, app.state])).toEqual(
        appIds.map((appId) => [appId, "Active"]),
      );
      const pids = listed.map((app) => app.pid as number);
      expect(new Set(pids).size).toBe(APPS);
      expect(new Set(listed.map((app) => app.socketPath)).size).toBe(APPS);
      for (const app of listed) {
        expect(statSync(app.socketPath).isSocket()).toBe(true);
        expect(avMemfdCount(app.pid as number)).toBe(1);
      }
      for (const appId of appIds) expect(t.statesOf(appId)).toEqual(["Uninitialised", "Active"]);
      // Step 3: every app is stopped at once; each exits by itself and is forgotten.
      await Promise.all(
        appIds.map((appId) => manager.changeSessionServerState(appId, "NotRunning")),
      );
      await waitFor(
        "every app to be forgotten",
        () => manager.listApplications().length === 0,
        DEADLINE_MS,
      );
      await waitFor("every session server to be reaped", () => pids.every(processGone));
      for (const appId of appIds) {
        expect(t.statesOf(appId).at(-1)).toBe("NotRunning");
        expect(manager.getTerminationReason(appId)?.exit).toEqual({ exitCode: 0, signal: null });
      }
      expect(socketFilesIn(t.runtimeDir)).toEqual([]);
    },
    3 * DEADLINE_MS,
  );
});
