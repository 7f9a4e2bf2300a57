import { describe, expect, it } from "bun:test";
import { EventEmitter } from "node:events";
import type { StatsEvent } from "@rialto/protocol";
import type { ServerManager } from "../server-manager.ts";
import { ManagerMetrics } from "./manager-metrics.ts";
import { ProcessSampler } from "./process-usage.ts";

/** The part of a ServerManager the metrics use, with one app run by this very process. */
function fakeManager() {
  let listed = 0;
  const manager = Object.assign(new EventEmitter(), {
    listApplications: () => {
      listed++;
      return [{ appId: "a", state: "Active", socketPath: "/tmp/a.sock", pid: process.pid }];
    },
    addMonitor: () => ({ close() {}, reset() {}, isOpen: true }),
    getTerminationReason: () => undefined,
    getAppStats: () => undefined,
  });
  return { manager, listed: () => listed };
}

const report = (rendered: number): StatsEvent => ({
  clients: 1,
  rpcCalls: 10,
  rpcRetransmits: 0,
  rpcReconnects: 0,
  rpcMeanMs: 0.5,
  avMemoryBytes: 4096,
  pipelines: [
    {
      pipelineId: 1,
      state: "Playing",
      positionNs: 2e9,
      sources: [{ kind: "video", renderedFrames: rendered, droppedFrames: 0, renderedBytes: 100 }],
    },
  ],
});

describe("ManagerMetrics", () => {
  it("renders again only when something changed, and then shows the change", async () => {
    const { manager, listed } = fakeManager();
    using metrics = new ManagerMetrics(manager as unknown as ServerManager, new ProcessSampler(), {
      sseClients: 0,
      sseDropped: 0,
    });
    const first = await metrics.render();
    expect(first.contentType).toStartWith("text/plain");
    expect(first.body).toContain('rialto_apps{state="Active"} 1');
    expect(first.body).toMatch(/rialto_session_server_resident_memory_bytes\{app="a"\} \d+/);
    const calls = listed();
    expect((await metrics.render()).body).toBe(first.body);
    expect(listed()).toBe(calls);
    // A media report changes the counters: rendered afresh.
    manager.emit("stats", "a", report(25));
    const second = await metrics.render();
    expect(listed()).toBeGreaterThan(calls);
    expect(second.body).toContain(
      'rialto_pipeline_frames_rendered_total{app="a",pipeline="1",kind="video"} 25',
    );
    expect(second.body).toContain('rialto_pipeline_position_seconds{app="a",pipeline="1"} 2');
  });
});
