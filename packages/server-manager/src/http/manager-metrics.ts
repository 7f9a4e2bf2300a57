import type { MonitorMessage, StatsEvent } from "@rialto/protocol";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { ServerManager } from "../server-manager.ts";
import { PROCESS_SAMPLE_MS, type ProcessSampler } from "./process-usage.ts";
import { RisingCounter } from "./rising-counter.ts";

const STATES = ["Uninitialised", "Inactive", "Active", "NotRunning", "Error"] as const;

/** The web monitor's own numbers, read at each scrape. */
export interface HttpGaugeSource {
  /** SSE clients connected now. */
  readonly sseClients: number;
  /** SSE clients dropped so far because they read too slowly. */
  readonly sseDropped: number;
}

/**
 * The manager's Prometheus metrics (prom-client, on a registry of its own): what the manager
 * sees itself (states, transitions, restarts and their causes, READY latency, health-check
 * round trips), what `/proc` says of each session server (RSS, CPU), and what each session
 * server reports with `control/stats` (clients, RPC counters, per-pipeline frames and bytes,
 * AV memory). Gauges are filled at scrape time; counters move as events arrive, through
 * {@link RisingCounter} where the source is another process's running total.
 */
export class ManagerMetrics implements Disposable {
  readonly registry = new Registry();
  readonly #manager: ServerManager;
  readonly #http: HttpGaugeSource;
  readonly #unsubscribe: Array<() => void> = [];
  /** Bumped by every event that changes a metric; a render is reused while it is unchanged. */
  #version = 0;
  #rendered: { key: string; atMs: number; body: string } | undefined;
  readonly #startedAt = new Map<string, number>();
  readonly #pipelines = new Map<string, Set<string>>();
  readonly #frames: RisingCounter<"app" | "pipeline" | "kind">;
  readonly #dropped: RisingCounter<"app" | "pipeline" | "kind">;
  readonly #bytes: RisingCounter<"app" | "pipeline" | "kind">;
  readonly #rpcCalls: RisingCounter<"app">;
  readonly #rpcRetransmits: RisingCounter<"app">;
  readonly #rpcReconnects: RisingCounter<"app">;
  readonly #cpuSeconds: RisingCounter<"app">;
  readonly #transitions: Counter<"state">;
  readonly #restarts: Counter<"app" | "cause">;
  readonly #readyLatency: Histogram;
  readonly #pingRoundTrip: Histogram;
  readonly #position: Gauge<"app" | "pipeline">;
  readonly #clients: Gauge<"app">;
  readonly #rpcMean: Gauge<"app">;
  readonly #avMemory: Gauge<"app">;

  constructor(manager: ServerManager, processes: ProcessSampler, http: HttpGaugeSource) {
    this.#manager = manager;
    this.#http = http;
    const registers = [this.registry];
    const counter = <L extends string>(name: string, help: string, labelNames: L[]) =>
      new Counter<L>({ name, help, labelNames, registers });
    const gauge = <L extends string>(name: string, help: string, labelNames: L[]) =>
      new Gauge<L>({ name, help, labelNames, registers });
    new Gauge({
      name: "rialto_apps",
      help: "Apps known to the manager, by session server state",
      labelNames: ["state"],
      registers,
      collect() {
        const counts = new Map<string, number>(STATES.map((state) => [state, 0]));
        for (const app of manager.listApplications()) {
          counts.set(app.state, (counts.get(app.state) ?? 0) + 1);
        }
        for (const [state, n] of counts) this.set({ state }, n);
      },
    });
    this.#transitions = counter(
      "rialto_state_transitions_total",
      "State changes of session servers (stateChanged), by new state",
      ["state"],
    );
    this.#restarts = counter(
      "rialto_restarts_total",
      "Session servers restarted after a failure, by app and cause (termination kind)",
      ["app", "cause"],
    );
    this.#readyLatency = new Histogram({
      name: "rialto_ready_latency_seconds",
      help: "Time from spawning a session server to its first message (READY)",
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.#pingRoundTrip = new Histogram({
      name: "rialto_health_check_round_trip_seconds",
      help: "Round trip of answered health-check pings",
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
      registers,
    });
    // RSS and CPU come from /proc readings (at most PROCESS_SAMPLE_MS old) at scrape time, by the
    // CPU counter's collect (registered first, so the RSS gauge after it shows the same reading).
    const cpuSeconds: Counter<"app"> = new Counter<"app">({
      name: "rialto_session_server_cpu_seconds_total",
      help: "CPU time used by each app's session servers, user + system (/proc)",
      labelNames: ["app"],
      registers,
      collect: () => {
        rss.reset();
        for (const app of manager.listApplications()) {
          if (app.pid === undefined) continue;
          const usage = processes.usage(app.pid);
          if (usage === undefined) continue;
          rss.set({ app: app.appId }, usage.rssBytes);
          this.#cpuSeconds.update({ app: app.appId }, usage.cpuSeconds, app.pid);
        }
      },
    });
    this.#cpuSeconds = new RisingCounter(cpuSeconds);
    const rss = gauge(
      "rialto_session_server_resident_memory_bytes",
      "Resident memory of each app's session server (/proc)",
      ["app"],
    );
    this.#clients = gauge("rialto_clients", "Registered clients of each app", ["app"]);
    this.#rpcCalls = new RisingCounter(
      counter("rialto_client_rpc_calls_total", "Client requests run by each app's session server", [
        "app",
      ]),
    );
    this.#rpcRetransmits = new RisingCounter(
      counter(
        "rialto_client_rpc_retransmits_total",
        "Retransmitted client requests answered from the reply cache",
        ["app"],
      ),
    );
    this.#rpcReconnects = new RisingCounter(
      counter(
        "rialto_client_reconnects_total",
        "Clients that came back on a new connection with their client id (retry-RPC)",
        ["app"],
      ),
    );
    this.#rpcMean = gauge(
      "rialto_client_rpc_mean_latency_seconds",
      "Mean time a client request took to run in each app's session server",
      ["app"],
    );
    this.#avMemory = gauge(
      "rialto_av_memory_bytes",
      "AV shared memory mapped by each app's session server (0 while Inactive)",
      ["app"],
    );
    const pipelineLabels: Array<"app" | "pipeline" | "kind"> = ["app", "pipeline", "kind"];
    this.#frames = new RisingCounter(
      counter("rialto_pipeline_frames_rendered_total", "Frames rendered", pipelineLabels),
    );
    this.#dropped = new RisingCounter(
      counter("rialto_pipeline_frames_dropped_total", "Frames dropped", pipelineLabels),
    );
    this.#bytes = new RisingCounter(
      counter("rialto_pipeline_rendered_bytes_total", "Bytes rendered", pipelineLabels),
    );
    this.#position = gauge(
      "rialto_pipeline_position_seconds",
      "Playback position of each pipeline",
      ["app", "pipeline"],
    );
    new Gauge({
      name: "rialto_http_sse_clients",
      help: "Clients of /api/events connected now",
      registers,
      collect() {
        this.set(http.sseClients);
      },
    });
    new Gauge({
      name: "rialto_http_sse_dropped_clients",
      help: "Clients of /api/events dropped because they read too slowly (a running total)",
      registers,
      collect() {
        this.set(http.sseDropped);
      },
    });

    const monitor = manager.addMonitor((message) => this.#onMonitor(message));
    this.#unsubscribe.push(() => monitor.close());
    const onStats = (appId: string, report: StatsEvent) => this.#onStats(appId, report);
    const onPing = (_pid: number, ms: number) => {
      this.#version++;
      this.#pingRoundTrip.observe(ms / 1000);
    };
    manager.on("stats", onStats);
    manager.on("pingAnswered", onPing);
    this.#unsubscribe.push(
      () => manager.off("stats", onStats),
      () => manager.off("pingAnswered", onPing),
    );
  }

  /**
   * The Prometheus text exposition and its content type. Rendering is the cost of a scrape, so
   * the last text is served again while nothing changed: no event since (state change, restart,
   * media report, ping answer, SSE client) and its `/proc` readings not yet due
   * (`PROCESS_SAMPLE_MS`). States, counters and histograms are therefore always current; RSS
   * and CPU are at most twice `PROCESS_SAMPLE_MS` old.
   */
  async render(): Promise<{ body: string; contentType: string }> {
    const contentType = this.registry.contentType;
    const key = `${this.#version}|${this.#http.sseClients}|${this.#http.sseDropped}`;
    const nowMs = performance.now();
    const last = this.#rendered;
    if (last !== undefined && last.key === key && nowMs - last.atMs < PROCESS_SAMPLE_MS) {
      return { body: last.body, contentType };
    }
    const body = await this.registry.metrics();
    this.#rendered = { key, atMs: nowMs, body };
    return { body, contentType };
  }

  [Symbol.dispose](): void {
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
  }

  #onMonitor(message: MonitorMessage): void {
    if (message.type !== "client_event") return;
    this.#version++;
    const { appId, event, state } = message;
    switch (event) {
      case "started":
        this.#startedAt.set(appId, performance.now());
        return;
      case "ready": {
        const started = this.#startedAt.get(appId);
        this.#startedAt.delete(appId);
        if (started !== undefined) this.#readyLatency.observe((performance.now() - started) / 1000);
        return;
      }
      case "state_changed":
        if (state !== undefined) this.#transitions.inc({ state });
        return;
      case "restarted": {
        const cause = this.#manager.getTerminationReason(appId)?.kind ?? "unknown";
        this.#restarts.inc({ app: appId, cause });
        return;
      }
      case "removed":
        this.#startedAt.delete(appId);
        this.#forgetPipelines(appId, new Set());
        for (const gauge of [this.#clients, this.#rpcMean, this.#avMemory]) {
          gauge.remove({ app: appId });
        }
        return;
      default:
        return;
    }
  }

  #onStats(appId: string, report: StatsEvent): void {
    this.#version++;
    const app = { app: appId };
    const pid = this.#manager.listApplications().find((a) => a.appId === appId)?.pid ?? 0;
    this.#clients.set(app, report.clients);
    this.#rpcMean.set(app, report.rpcMeanMs / 1000);
    this.#avMemory.set(app, report.avMemoryBytes);
    this.#rpcCalls.update(app, report.rpcCalls, pid);
    this.#rpcRetransmits.update(app, report.rpcRetransmits, pid);
    this.#rpcReconnects.update(app, report.rpcReconnects, pid);
    const live = new Set<string>();
    for (const pipeline of report.pipelines) {
      const id = String(pipeline.pipelineId);
      live.add(id);
      this.#position.set({ app: appId, pipeline: id }, pipeline.positionNs / 1e9);
      for (const source of pipeline.sources) {
        const labels = { app: appId, pipeline: id, kind: source.kind };
        this.#frames.update(labels, source.renderedFrames, pid);
        this.#dropped.update(labels, source.droppedFrames, pid);
        this.#bytes.update(labels, source.renderedBytes, pid);
      }
    }
    this.#forgetPipelines(appId, live);
    this.#pipelines.set(appId, live);
  }

  /** Removes the series of `appId`'s pipelines that are not in `live` (destroyed ones). */
  #forgetPipelines(appId: string, live: ReadonlySet<string>): void {
    for (const id of this.#pipelines.get(appId) ?? []) {
      if (live.has(id)) continue;
      this.#position.remove({ app: appId, pipeline: id });
      for (const kind of ["audio", "video", "subtitle"]) {
        const labels = { app: appId, pipeline: id, kind };
        this.#frames.remove(labels);
        this.#dropped.remove(labels);
        this.#bytes.remove(labels);
      }
    }
    if (live.size === 0) this.#pipelines.delete(appId);
  }
}
