import { RialtoClient } from "@rialto/client";
import parsePrometheusTextFormat, { type PrometheusFamily } from "parse-prometheus-text-format";
import {
  type CommandResult,
  jsonLines,
  startTestDaemon,
  type TestDaemon,
} from "./lifecycle-daemon.ts";
import { waitFor } from "./wait.ts";

/** A daemon started with `--http 0` and what it printed about its web monitor. */
export interface HttpDaemon extends AsyncDisposable {
  readonly d: TestDaemon;
  /** `http://127.0.0.1:<port>/`. */
  readonly url: string;
  /** The control token it printed (with `--http-control`). */
  readonly token: string | undefined;
}

/**
 * Starts `rialto-server-manager --http 127.0.0.1:0 ...extraArgs` in a fresh runtime dir and
 * reads the monitor's address (and the control token) from its stdout.
 */
export async function startHttpDaemon(extraArgs: readonly string[] = []): Promise<HttpDaemon> {
  const d = await startTestDaemon({}, ["--http", "127.0.0.1:0", ...extraArgs]);
  try {
    const url = await waitFor(
      "the monitor's address on stdout",
      () => /monitor at (http:\/\/\S+)\n/.exec(d.daemon.stdout())?.[1],
    );
    // A generated token is printed on a line of its own, which may arrive after the address's
    // (one read from --http-token-file is not printed).
    const token =
      extraArgs.includes("--http-control") && !extraArgs.includes("--http-token-file")
        ? await waitFor(
            "the control token on stdout",
            () => /control token ([0-9a-f]{64})\n/.exec(d.daemon.stdout())?.[1],
          )
        : undefined;
    return { d, url, token, [Symbol.asyncDispose]: () => d[Symbol.asyncDispose]() };
  } catch (error) {
    await d[Symbol.asyncDispose]();
    throw error;
  }
}

/** Scrapes `/metrics` and parses it with a Prometheus text-format parser. */
export async function scrape(url: string): Promise<PrometheusFamily[]> {
  const response = await fetch(new URL("metrics", url));
  if (!response.ok) throw new Error(`GET /metrics: ${response.status}`);
  return parsePrometheusTextFormat(await response.text());
}

/** The family called `name`, or a failure naming it. */
export function family(families: PrometheusFamily[], name: string): PrometheusFamily {
  const found = families.find((f) => f.name === name);
  if (found === undefined) throw new Error(`no metric family ${name}`);
  return found;
}

/** The value of the sample of `name` whose labels include `labels` (undefined if none). */
export function sampleValue(
  families: PrometheusFamily[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const metric of family(families, name).metrics) {
    const own = metric.labels ?? {};
    if (Object.entries(labels).every(([k, v]) => own[k] === v) && "value" in metric) {
      return Number(metric.value);
    }
  }
  return undefined;
}

/**
 * Every counter series and every histogram's count, keyed by `name{labels}`: the values that
 * must never fall between two scrapes.
 */
export function risingSeries(families: PrometheusFamily[]): Map<string, number> {
  const series = new Map<string, number>();
  for (const f of families) {
    if (f.type !== "COUNTER" && f.type !== "HISTOGRAM") continue;
    for (const metric of f.metrics) {
      const key = `${f.name}${JSON.stringify(metric.labels ?? {})}`;
      series.set(key, Number("value" in metric ? metric.value : metric.count));
    }
  }
  return series;
}

/** `rialtoctl info <app> --json`: the app's pid and client socket. */
export async function appInfo(
  d: TestDaemon,
  appId: string,
): Promise<{ pid: number; socketPath: string; state: string }> {
  const result: CommandResult = await d.ctl("info", appId, "--json");
  if (result.exitCode !== 0) throw new Error(`rialtoctl info ${appId}: ${result.stderr}`);
  const [info] = jsonLines(result.stdout);
  return info as { pid: number; socketPath: string; state: string };
}

/** A client of the app, Running (its pipelines may be created). Disposing closes it. */
export async function runningClient(socketPath: string): Promise<RialtoClient> {
  const client = await RialtoClient.connect({ socketPath });
  await client.setApplicationState("Running");
  return client;
}

/** One event of `/api/events`. */
export interface SseEvent {
  event: string;
  data: unknown;
}

/** Reads `/api/events` as a stream of server-sent events until {@link SseReader.close}. */
export class SseReader implements AsyncDisposable {
  readonly events: SseEvent[] = [];
  readonly #abort = new AbortController();
  readonly done: Promise<void>;

  constructor(url: string) {
    this.done = this.#read(url).catch((error) => {
      if (!this.#abort.signal.aborted) throw error;
    });
  }

  /** The `monitor` events' data, in order. */
  monitorMessages(): Array<Record<string, unknown>> {
    return this.events
      .filter((e) => e.event === "monitor")
      .map((e) => e.data as Record<string, unknown>);
  }

  close(): void {
    this.#abort.abort();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await this.done;
  }

  async #read(url: string): Promise<void> {
    const response = await fetch(new URL("api/events", url), { signal: this.#abort.signal });
    if (response.body === null) throw new Error("no body");
    const decoder = new TextDecoder();
    let pending = "";
    for await (const chunk of response.body) {
      pending += decoder.decode(chunk, { stream: true });
      let end = pending.indexOf("\n\n");
      while (end >= 0) {
        const block = pending.slice(0, end);
        pending = pending.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1] ?? "message";
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (data !== undefined) this.events.push({ event, data: JSON.parse(data) });
        end = pending.indexOf("\n\n");
      }
    }
  }
}
