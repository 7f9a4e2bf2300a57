import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { RialtoClient } from "@rialto/client";
import { createTestManager } from "./support/lifecycle-manager.ts";
import { rejection } from "./support/rejection.ts";
import { waitFor } from "./support/wait.ts";

// Process tests start real session servers (about 0.5 s each on a 2-core machine).
setDefaultTimeout(30_000);

describe("RialtoClient.applicationState tells the truth at every moment (issue 18)", () => {
  it("follows the server's state and the app's own calls, as the docs' table says", async () => {
    await using t = createTestManager();
    await t.manager.initiateApplication("truth", "Active");
    await t.manager.waitForState("truth", "Active");
    const client = await RialtoClient.connect({
      socketPath: t.manager.getAppConnectionInfo("truth"),
    });
    const heard: string[] = [];
    client.on("applicationState", (state) => heard.push(state));
    const mapped = () => client.sharedMemory !== undefined;

    // Step 1: server Active → Running, and the AV memory is mapped with no call.
    expect(client.applicationState).toBe("Running");
    await waitFor("the AV memory mapped by itself", mapped);
    const pipeline = await client.createMediaPipeline();

    // Step 2: the app makes itself Inactive: its resources go and the state says so at once.
    await client.setApplicationState("Inactive");
    expect(client.applicationState).toBe("Inactive");
    expect(heard).toEqual(["Inactive"]);
    expect(client.sharedMemory).toBeUndefined();
    expect(pipeline.lifecycle).toBe("released");
    const refused = await rejection(client.createMediaPipeline());
    expect(refused.code).toBe("INVALID_STATE");
    expect(refused.message).toContain("(application state Inactive)");

    // Step 3: the app asks for Running again.
    await client.setApplicationState("Running");
    expect(client.applicationState).toBe("Running");
    expect(mapped()).toBe(true);
    expect(heard).toEqual(["Inactive", "Running"]);

    // Step 4: the platform makes the app Inactive, then Active: the client follows, and maps
    // the new memory by itself.
    await t.changeState("truth", "Inactive");
    await waitFor("the client Inactive", () => client.applicationState === "Inactive");
    expect(client.sharedMemory).toBeUndefined();
    const inactive = await rejection(client.setApplicationState("Running"));
    expect(inactive.code).toBe("INVALID_STATE");
    expect(client.applicationState).toBe("Inactive");
    await t.changeState("truth", "Active");
    await waitFor("the client Running", () => client.applicationState === "Running");
    await waitFor("the new AV memory mapped by itself", mapped);
    expect(heard).toEqual(["Inactive", "Running", "Inactive", "Running"]);

    // Step 5: the app stops: Unknown; closed: Unknown.
    await t.manager.changeSessionServerState("truth", "NotRunning");
    await waitFor("the client Unknown", () => client.applicationState === "Unknown");
    expect(heard.at(-1)).toBe("Unknown");
    await client.close();
    expect(client.applicationState).toBe("Unknown");
  });

  it("keeps the app's own Inactive while the server is Active, until the app asks for Running", async () => {
    await using t = createTestManager();
    await t.givenApp("choice", "Active");
    await using client = await RialtoClient.connect({
      socketPath: t.manager.getAppConnectionInfo("choice"),
    });
    await client.setApplicationState("Inactive");
    // A reconnect brings the server's Running again; the app's choice stands.
    client.dropConnection();
    expect(await client.ping(1)).toBe(1);
    expect(client.applicationState).toBe("Inactive");
    expect(client.sharedMemory).toBeUndefined();
  });
});
