/**
 * An app run as its own process by the clients-bundle test: an in-process server manager (log
 * level debug, so the session server says when it loads its client side) starts one app
 * Inactive; once it is, this writes `MARK before the first client` on stderr, which the session
 * server shares; then a client connects, the app goes Active, the client makes a pipeline, and
 * everything closes.
 */
import { mkdtempSync, rmSync, writeSync } from "node:fs";
import { RialtoClient } from "@rialto/client";
import { ServerManager } from "@rialto/server-manager";

const runtimeDir = mkdtempSync("/tmp/rialto-first-client-");
try {
  await using manager = new ServerManager({
    runtimeDir,
    healthCheckIntervalMs: 0,
    logLevel: "debug",
  });
  await manager.initiateApplication("first", "Inactive", { logLevel: "debug" });
  await manager.waitForState("first", "Inactive");
  writeSync(2, "MARK before the first client\n");
  await using client = await RialtoClient.connect({
    socketPath: manager.getAppConnectionInfo("first"),
  });
  await manager.changeSessionServerState("first", "Active");
  await manager.waitForState("first", "Active");
  await client.setApplicationState("Running");
  const pipeline = await client.createMediaPipeline();
  await pipeline.destroy();
  await manager.changeSessionServerState("first", "NotRunning");
  await manager.waitForState("first", "NotRunning");
} finally {
  rmSync(runtimeDir, { recursive: true, force: true });
}
