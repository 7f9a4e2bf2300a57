import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { readFileSync } from "node:fs";
import { TestApp } from "./support/rialto-app.ts";
import { waitFor } from "./support/wait.ts";

// Real processes on a shared 2-core machine.
setDefaultTimeout(60_000);

/** Resident pages of `pid` backed by files (its executable's and libraries'), bytes. */
function residentFileBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/^RssFile:\s+(\d+) kB$/m.exec(status)?.[1]) * 1024;
}

/** A bare Bun process that waits, started and ready: the baseline of a process's code pages. */
async function bareBun(): Promise<{ pid: number; stop(): Promise<void> }> {
  const child = Bun.spawn({
    cmd: [process.execPath, "-e", "console.log('ready'); setInterval(() => {}, 1e9)"],
    stdout: "pipe",
  });
  const reader = child.stdout.getReader();
  await reader.read();
  reader.releaseLock();
  return {
    pid: child.pid,
    async stop() {
      child.kill();
      await child.exited;
    },
  };
}

describe("an idle session server gives its code pages back (issue 15, memory)", () => {
  it("holds fewer code pages than a bare Bun once a health check finds it idle, and serves on", async () => {
    const bare = await bareBun();
    try {
      const bareFileBytes = residentFileBytes(bare.pid);
      // Given: an app Inactive with no client, health-checked every 100 ms; a client that
      // left is forgotten after 100 ms (its grace period for a reconnect).
      await using app = await TestApp.start({
        state: "Inactive",
        env: { RIALTO_CLIENT_GRACE_MS: "100" },
        manager: { healthCheckIntervalMs: 100 },
      });
      const pid = app.pid;

      // Then: after a ping its resident code drops below a bare Bun's, though it ran far more
      // code to start (without the release it holds about 1.5 times a bare Bun's).
      const released = await waitFor("the idle session server's code pages released", () => {
        const bytes = residentFileBytes(pid);
        return bytes < bareFileBytes && bytes;
      });
      expect(released).toBeLessThan(bareFileBytes);

      // And: it serves on, its code faulting back in as it runs: Active, a client, a pipeline.
      await app.setState("Active");
      const client = await app.connect();
      await client.setApplicationState("Running");
      const pipeline = await client.createMediaPipeline();
      await pipeline.destroy();
      const busyBytes = residentFileBytes(pid);
      expect(busyBytes).toBeGreaterThan(released);
      await client.close();

      // And: idle again (no client), the next health check releases what the client's calls
      // brought back, the same server still answering its manager.
      await waitFor("the code pages released again after the client left", () => {
        return residentFileBytes(pid) < bareFileBytes;
      });
      await app.setState("Inactive");
      expect(app.pid).toBe(pid);
    } finally {
      await bare.stop();
    }
  });
});
