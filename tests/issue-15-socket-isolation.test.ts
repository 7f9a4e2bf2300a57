import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { mkdtempSync, readdirSync, readlinkSync, rmSync } from "node:fs";
import { ServerManager } from "@rialto/server-manager";

// Real processes on a shared 2-core machine.
setDefaultTimeout(30_000);

/** The socket inodes process `pid` holds open. */
function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode !== undefined) inodes.add(inode);
    } catch {
      // Closed while we looked.
    }
  }
  return inodes;
}

describe("listening sockets given at spawn (issue 15)", () => {
  it("each session server holds its own app's sockets and no other app's", async () => {
    const runtimeDir = mkdtempSync("/tmp/rialto-isolation-");
    try {
      await using manager = new ServerManager({
        runtimeDir,
        healthCheckIntervalMs: 0,
        logLevel: "error",
      });
      const apps = ["one", "two", "three"];
      for (const appId of apps) {
        await manager.initiateApplication(appId, "Inactive");
        await manager.waitForState(appId, "Inactive");
      }
      const held = manager.listApplications().map((app) => ({
        appId: app.appId,
        inodes: socketInodes(app.pid as number),
      }));
      expect(held.map((entry) => entry.appId).sort()).toEqual([...apps].sort());
      for (const entry of held) {
        // Its control channel and its two listening sockets at least.
        expect(entry.inodes.size).toBeGreaterThanOrEqual(3);
        for (const other of held) {
          if (other === entry) continue;
          expect([...entry.inodes].filter((inode) => other.inodes.has(inode))).toEqual([]);
        }
      }
    } finally {
      rmSync(runtimeDir, { recursive: true, force: true });
    }
  });
});
