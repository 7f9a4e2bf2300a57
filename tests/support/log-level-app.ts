/**
 * An app as a developer writes it, run as its own process by the log tests: an in-process
 * server manager starts one app with `logLevel` (argv[2]) in its config, a client connects and
 * plays with a pipeline, then everything closes. Its stdout and stderr are what is checked.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { RialtoClient } from "@rialto/client";
import type { LogLevel } from "@rialto/protocol";
import { ServerManager } from "@rialto/server-manager";

const logLevel = (process.argv[2] ?? "info") as LogLevel;
const runtimeDir = mkdtempSync("/tmp/rialto-log-app-");
try {
  await using manager = new ServerManager({ runtimeDir, healthCheckIntervalMs: 0, logLevel });
  await manager.initiateApplication("logs", "Active", { logLevel });
  await manager.waitForState("logs", "Active");
  await using client = await RialtoClient.connect({
    socketPath: manager.getAppConnectionInfo("logs"),
  });
  const pipeline = await client.createMediaPipeline();
  await pipeline.destroy();
  await manager.changeSessionServerState("logs", "NotRunning");
  await manager.waitForState("logs", "NotRunning");
} finally {
  rmSync(runtimeDir, { recursive: true, force: true });
}
