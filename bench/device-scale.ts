// Device scale: what the web monitor costs an idle manager. A `rialto-server-manager` daemon
// (a child process, so its CPU is its own) runs 50 Inactive apps with `--http`; its CPU time
// (/proc/<pid>/stat) is measured over a window with nobody looking, with Prometheus scraping
// /metrics every second, and with that plus one /api/events client (the page: an `apps` event
// every second). Goal: under 0.5 % of one core while scraped every second. The 50 idle session
// servers' own CPU is shown beside it (their health-check pings and stats checks). Baseline, in
// the same windows: a bare Bun process whose Bun.serve answers a constant body of the same size,
// fetched every second too (what any Bun HTTP endpoint costs here).
// Usage: bun bench/device-scale.ts [--apps N] [--window-s S]. Last line: one JSON object.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  type ApplicationInfo,
  ControlSocketMethods,
  connectUnix,
  isListening,
  RpcPeer,
} from "@rialto/protocol";
import { defaultSessionServerCommand } from "@rialto/server-manager";
import { median, round2 } from "./support/measure.ts";

const { values } = parseArgs({
  options: { apps: { type: "string" }, "window-s": { type: "string" } },
});
const APPS = Number(values.apps ?? 50);
const WINDOW_MS = Number(values["window-s"] ?? 20) * 1000;
const SETTLE_MS = 3000;
const DEADLINE_MS = 180_000;
const DAEMON_MAIN = fileURLToPath(
  new URL("../packages/server-manager/src/daemon/main.ts", import.meta.url),
);

const dir = mkdtempSync(join(tmpdir(), "rialto-bench-scale-"));
const controlSocket = join(dir, "control.sock");
const daemon = Bun.spawn({
  cmd: [
    process.execPath,
    DAEMON_MAIN,
    "--runtime-dir",
    dir,
    "--control-socket",
    controlSocket,
    "--log-level",
    "error",
    // Fifty cold starts on a shared 2-core machine take their time.
    "--ready-timeout-ms",
    "60000",
    "--session-server-command",
    JSON.stringify([...defaultSessionServerCommand(), "--log-level", "error"]),
    "--http",
    "127.0.0.1:0",
  ],
  stdio: ["ignore", "pipe", "inherit"],
});

async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined) {
  const deadline = performance.now() + DEADLINE_MS;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}

/**
 * CPU time of a process so far, ns: user + system from `/proc/<pid>/stat` (10 ms ticks). Unlike
 * per-thread schedstat it keeps the time of threads that have ended.
 */
function cpuNs(pid: number): number {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 1e7;
  } catch {
    return 0;
  }
}

/** Percent of one core the processes used over `ms` while `during` runs. */
async function cpuPercent(
  pids: number[],
  ms: number,
  during: () => Promise<void> = async () => {},
) {
  const before = pids.map(cpuNs);
  const start = performance.now();
  const stop = Promise.withResolvers<void>();
  const work = (async () => {
    await during();
    await stop.promise;
  })();
  await Bun.sleep(ms);
  stop.resolve();
  await work;
  const elapsedNs = (performance.now() - start) * 1e6;
  return pids.map((pid, i) => (100 * (cpuNs(pid) - (before[i] ?? 0))) / elapsedNs);
}

// The baseline: a bare Bun HTTP server; its body is set to the size of /metrics once known.
const baseline = Bun.spawn({
  cmd: [
    process.execPath,
    "-e",
    `let body = "x"; const s = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: async (r) => {
       if (r.method === "POST") { body = "x".repeat(Number(await r.text())); return new Response("ok"); }
       return new Response(body); } }); console.log(s.port);`,
  ],
  stdio: ["ignore", "pipe", "inherit"],
});

/** Reads `stream` until `pattern` matches what was read; resolves with its first group. */
async function readUntil(stream: ReadableStream<Uint8Array>, pattern: RegExp): Promise<string> {
  let out = "";
  const reader = stream.getReader();
  try {
    return await until(`${pattern} on stdout`, async () => {
      const { value } = await reader.read();
      out += new TextDecoder().decode(value);
      return pattern.exec(out)?.[1];
    });
  } finally {
    reader.releaseLock();
  }
}

try {
  const baselineUrl = `http://127.0.0.1:${await readUntil(baseline.stdout, /^(\d+)\n/)}/`;
  // Step 1: the daemon's address, then 50 Inactive apps.
  const url = await readUntil(daemon.stdout, /monitor at (\S+)\n/);
  await until("the control socket", async () =>
    (await isListening(controlSocket)) ? true : undefined,
  );
  const peer = new RpcPeer({ name: "bench-device-scale", timeoutMs: DEADLINE_MS });
  peer.attach(await connectUnix(controlSocket));
  const startedAt = performance.now();
  for (let i = 0; i < APPS; i++) {
    await peer.call(ControlSocketMethods.initiateApplication, {
      appId: `app${i}`,
      state: "Inactive",
    });
  }
  const list = async (): Promise<ApplicationInfo[]> =>
    (await peer.call(ControlSocketMethods.listApplications, {})).applications;
  const apps = await until(`${APPS} apps Inactive`, async () => {
    const all = await list();
    return all.length === APPS && all.every((a) => a.state === "Inactive") ? all : undefined;
  });
  const startSeconds = (performance.now() - startedAt) / 1000;
  console.log(`${APPS} apps Inactive after ${round2(startSeconds)} s; settling`);
  await Bun.sleep(SETTLE_MS);
  const sessionServers = apps.map((a) => a.pid ?? 0).filter((pid) => pid > 0);
  const pids = [daemon.pid, baseline.pid, ...sessionServers];
  const summarise = (percents: number[]) => ({
    manager: round2(percents[0] ?? 0),
    bareBunServer: round2(percents[1] ?? 0),
    sessionServers: round2(percents.slice(2).reduce((a, b) => a + b, 0)),
  });
  const metricsBytes = (await (await fetch(new URL("metrics", url))).text()).length;
  await fetch(baselineUrl, { method: "POST", body: String(metricsBytes) });

  // Step 2: nobody looking.
  const idle = summarise(await cpuPercent(pids, WINDOW_MS));
  console.log(
    `idle, not scraped:           manager ${idle.manager} % of a core (bare Bun server ${idle.bareBunServer} %), ${APPS} session servers ${idle.sessionServers} %`,
  );

  // Step 3: Prometheus scraping /metrics every second.
  const scrapeMs: number[] = [];
  let scrapeBytes = 0;
  let scraping = true;
  const scraper = async () => {
    while (scraping) {
      const start = performance.now();
      const body = await (await fetch(new URL("metrics", url))).text();
      scrapeMs.push(performance.now() - start);
      scrapeBytes = body.length;
      await (await fetch(baselineUrl)).text();
      await Bun.sleep(1000 - (performance.now() - start));
    }
  };
  let loop: Promise<void> = Promise.resolve();
  const scraped = summarise(
    await cpuPercent(pids, WINDOW_MS, async () => {
      loop = scraper();
    }),
  );
  console.log(
    `scraped every second:        manager ${scraped.manager} % of a core (bare Bun server fetched as often ${scraped.bareBunServer} %; scrape ${round2(median(scrapeMs))} ms median, ${scrapeBytes} bytes)`,
  );

  // Step 4: the same with the page open (one /api/events client).
  const abort = new AbortController();
  const events = await fetch(new URL("api/events", url), { signal: abort.signal });
  const drain = (async () => {
    try {
      for await (const _ of events.body ?? []) {
        // Read and discard: a page that keeps up.
      }
    } catch {
      // Aborted at the end.
    }
  })();
  const withPage = summarise(await cpuPercent(pids, WINDOW_MS));
  console.log(
    `scraped + page open:         manager ${withPage.manager} % of a core (bare Bun server ${withPage.bareBunServer} %)`,
  );
  scraping = false;
  abort.abort();
  await Promise.all([loop, drain]);
  peer.close();

  const goalMet = scraped.manager < 0.5;
  console.log(`goal (scraped every second, < 0.5 % of a core): ${goalMet ? "met" : "NOT met"}`);
  console.log(
    JSON.stringify({
      bench: "device-scale",
      apps: APPS,
      windowS: WINDOW_MS / 1000,
      startSeconds: round2(startSeconds),
      idle,
      scraped,
      scrapedWithPage: withPage,
      scrapeMedianMs: round2(median(scrapeMs)),
      scrapeBytes,
      goalMet,
    }),
  );
} finally {
  baseline.kill();
  daemon.kill("SIGTERM");
  await Promise.all([daemon.exited, baseline.exited]);
  rmSync(dir, { recursive: true, force: true });
}
