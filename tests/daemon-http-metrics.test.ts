import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { DEMO_CLIP_TRACKS } from "../apps/demo-app/src/mp4/index.ts";
import { processGone } from "./support/lifecycle-proc.ts";
import { givenClipPlayer } from "./support/pipeline-harness.ts";
import { waitFor, within } from "./support/wait.ts";
import {
  appInfo,
  family,
  risingSeries,
  runningClient,
  SseReader,
  sampleValue,
  scrape,
  startHttpDaemon,
} from "./support/web-monitor.ts";

// Real processes on a shared 2-core machine.
setDefaultTimeout(60_000);

describe("rialto-server-manager --http: /metrics (parsed with a Prometheus text parser)", () => {
  it("counts apps by state and transitions, and a crashed app's restart with its cause; counters only rise", async () => {
    // Given: a daemon with the web monitor, one Active and one Inactive app.
    await using h = await startHttpDaemon(["--health-check-interval-ms", "200"]);
    expect((await h.d.ctl("start", "crashy", "--active")).exitCode).toBe(0);
    expect((await h.d.ctl("start", "calm")).exitCode).toBe(0);
    const first = await scrape(h.url);
    expect(sampleValue(first, "rialto_apps", { state: "Active" })).toBe(1);
    expect(sampleValue(first, "rialto_apps", { state: "Inactive" })).toBe(1);
    expect(sampleValue(first, "rialto_state_transitions_total", { state: "Active" })).toBe(1);
    expect(family(first, "rialto_ready_latency_seconds").type).toBe("HISTOGRAM");
    expect(family(first, "rialto_session_server_resident_memory_bytes").metrics.length).toBe(2);
    const rss = sampleValue(first, "rialto_session_server_resident_memory_bytes", {
      app: "crashy",
    });
    expect(rss).toBeGreaterThan(1024 * 1024);
    expect(sampleValue(first, "rialto_restarts_total", { app: "crashy" })).toBeUndefined();

    // When: crashy's session server dies by SIGKILL (a crash); the manager restarts it.
    await using monitor = await h.d.connectMonitor();
    const { pid } = await appInfo(h.d, "crashy");
    process.kill(pid, "SIGKILL");
    await monitor.waitForEvent("crashy", "restarted");
    await monitor.waitForEvent("crashy", "state_changed", "Active");
    await waitFor("crashy's old process to be reaped", () => processGone(pid));
    // And: health-check pings are answered in the meantime.
    await waitFor("a health-check round trip", async () => {
      const scraped = await scrape(h.url);
      const pings = family(scraped, "rialto_health_check_round_trip_seconds").metrics[0];
      return pings !== undefined && "count" in pings && Number(pings.count) > 0;
    });

    // Then: the restart is counted with its cause, and no counter fell.
    const second = await scrape(h.url);
    expect(sampleValue(second, "rialto_restarts_total", { app: "crashy", cause: "crashed" })).toBe(
      1,
    );
    expect(sampleValue(second, "rialto_state_transitions_total", { state: "Error" })).toBe(1);
    expect(sampleValue(second, "rialto_state_transitions_total", { state: "Active" })).toBe(2);
    expect(sampleValue(second, "rialto_apps", { state: "Active" })).toBe(1);
    const before = risingSeries(first);
    const after = risingSeries(second);
    expect([...before.keys()]).toContain('rialto_state_transitions_total{"state":"Active"}');
    expect([...before.keys()]).toContain('rialto_session_server_cpu_seconds_total{"app":"crashy"}');
    const fell = [...before].filter(([series, value]) => !((after.get(series) ?? -1) >= value));
    expect(fell).toEqual([]);
  });

  it("exports a playing app's frames, bytes and position per pipeline, equal to the file's presented samples at the end", async () => {
    // Given: an Active app on the virtual engine in freerun, with the web monitor.
    await using h = await startHttpDaemon();
    expect((await h.d.ctl("start", "player", "--active", "--clock", "freerun")).exitCode).toBe(0);
    const { socketPath } = await appInfo(h.d, "player");

    // When: a client plays the demo clip to its end (in the test process).
    await using client = await runningClient(socketPath);
    const { player } = await givenClipPlayer(client);
    await player.play();
    expect(await within(player.ended, "EndOfStream")).toBe("EndOfStream");

    // Then: the session server's report reaches /metrics: every sample ffprobe says the file
    // presents rendered (the AAC priming packet before 0 is fed and clipped).
    const videoSamples = DEMO_CLIP_TRACKS.find((t) => t.type === "video")?.presentedSamples;
    const audioSamples = DEMO_CLIP_TRACKS.find((t) => t.type === "audio")?.presentedSamples;
    const pipeline = String(player.pipeline.id);
    const labels = (kind: string) => ({ app: "player", pipeline, kind });
    const scraped = await waitFor("the final frame counts in /metrics", async () => {
      const families = await scrape(h.url);
      const video = sampleValue(families, "rialto_pipeline_frames_rendered_total", labels("video"));
      const audio = sampleValue(families, "rialto_pipeline_frames_rendered_total", labels("audio"));
      return video === videoSamples && audio === audioSamples ? families : undefined;
    });
    expect(sampleValue(scraped, "rialto_pipeline_frames_dropped_total", labels("video"))).toBe(0);
    const outcomes = await player.outcomes();
    for (const outcome of outcomes) {
      expect(
        sampleValue(scraped, "rialto_pipeline_rendered_bytes_total", labels(outcome.track.type)),
      ).toBe(outcome.stats.renderedBytes);
    }
    expect(
      sampleValue(scraped, "rialto_pipeline_position_seconds", { app: "player", pipeline }),
    ).toBeGreaterThan(4);
    expect(sampleValue(scraped, "rialto_clients", { app: "player" })).toBe(1);
    expect(
      sampleValue(scraped, "rialto_client_rpc_calls_total", { app: "player" }),
    ).toBeGreaterThan(10);
    expect(sampleValue(scraped, "rialto_av_memory_bytes", { app: "player" })).toBeGreaterThan(0);
    // And: /api/apps carries the same report.
    const apps = (await (await fetch(new URL("api/apps", h.url))).json()) as {
      apps: Array<{
        appId: string;
        pid: number;
        rssBytes: number;
        stats: { pipelines: unknown[] };
      }>;
    };
    const [view] = apps.apps;
    expect(view).toMatchObject({ appId: "player", pid: expect.any(Number) });
    expect(view?.rssBytes).toBeGreaterThan(1024 * 1024);
    expect(view?.stats.pipelines).toEqual([
      expect.objectContaining({ pipelineId: player.pipeline.id, state: "EndOfStream" }),
    ]);
  });
});

describe("rialto-server-manager --http: /api/events", () => {
  it("sends the state list first, then the lifecycle events as they happen", async () => {
    await using h = await startHttpDaemon();
    expect((await h.d.ctl("start", "early")).exitCode).toBe(0);
    await using sse = new SseReader(h.url);
    await waitFor("the state list", () =>
      sse.monitorMessages().some((m) => m.type === "client_state_end"),
    );
    expect((await h.d.ctl("set", "early", "active")).exitCode).toBe(0);
    await waitFor("early's state_changed Active", () =>
      sse.monitorMessages().some((m) => m.event === "state_changed" && m.state === "Active"),
    );
    const messages = sse.monitorMessages();
    expect(messages.slice(0, 2)).toEqual([
      { type: "client_state", appId: "early", isStarted: true, state: "Inactive" },
      { type: "client_state_end", count: 1 },
    ]);
    expect(messages.slice(2).map((m) => [m.event, m.state])).toEqual([
      ["state_request", "Active"],
      ["state_changed", "Active"],
    ]);
    // The first event of all is the app list, so a page can draw at once.
    expect(sse.events[0]?.event).toBe("apps");
  });
});
