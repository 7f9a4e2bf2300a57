import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { PipelineMethods } from "@rialto/protocol";
import { ClipPlayer } from "../apps/demo-app/src/clip-player.ts";
import {
  demoClip,
  givenClipPlayer,
  PipelineEventLog,
  runningAppsPerTest,
} from "./support/pipeline-harness.ts";
import { eventually, within } from "./support/wait.ts";

// Real processes on a shared 2-core machine: bun's 5 s default is too tight under load.
setDefaultTimeout(30_000);

const MS = 1_000_000;

const givenRunningApp = runningAppsPerTest();

describe("pipelines and the app lifecycle (real server manager and session server)", () => {
  it("destroys a playing pipeline when the app goes Inactive: the client is told, the server keeps serving", async () => {
    // Given: an Active app whose client plays the clip in real time.
    const { app, client } = await givenRunningApp({ clock: "realtime" });
    const pid = app.pid;
    const { player, log } = await givenClipPlayer(client);
    await player.play();
    await log.next("position", (p) => p.positionNs >= 300 * MS);

    // When: the application manager makes the app Inactive in the middle of playback.
    await app.setState("Inactive");

    // Then: the pipeline was stopped and released, and the client is Inactive.
    expect(await within(player.ended, "the pipeline released")).toBe("released");
    await log.next("released");
    expect(log.states().slice(-1)).toEqual(["Stopped"]);
    expect(player.pipeline.lifecycle).toBe("released");
    await eventually(() => client.applicationState === "Inactive", "client Inactive");
    expect(client.sharedMemory).toBeUndefined();

    // Then: pipeline calls are refused while Inactive (by the client for the released
    // pipeline, by the server on the wire), and the same server still answers.
    const { id } = player.pipeline;
    await expect(player.pipeline.play()).rejects.toMatchObject({ code: "INVALID_STATE" });
    await expect(client.call(PipelineMethods.play, { pipelineId: id })).rejects.toMatchObject({
      code: "INVALID_STATE",
      message: '"pipeline/play": media calls need the app Running (it is Inactive)',
    });
    await expect(client.createMediaPipeline()).rejects.toMatchObject({ code: "INVALID_STATE" });
    expect(await client.ping(3)).toBe(3);
    expect(app.pid).toBe(pid);

    // When: Active again, the client maps the new memory and a new pipeline prerolls.
    await app.setState("Active");
    await eventually(() => client.applicationState === "Running", "client Running");
    await client.setApplicationState("Running");
    const pipeline = await client.createMediaPipeline();
    const again = new PipelineEventLog(pipeline);
    await ClipPlayer.attach(pipeline, await demoClip());
    await again.state("Paused");
    await expect(client.call(PipelineMethods.play, { pipelineId: id })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    await pipeline.destroy();
  });
});
