// Device scale (issue 15): fifty apps on one TV. A `rialto-server-manager` daemon (a child
// process, so its CPU is its own) runs APPS Inactive apps plus one Active app that plays the
// demo clip in real time for a client in this process. In one run it prints:
// - start-up: APPS apps initiated at once (concurrent calls on the control socket) until all are
//   Inactive, against APPS bare `bun -e 0` spawned at once until all exited (goal: ≤ 3 s);
// - memory: VmRSS of each Inactive session server, of the Active one idle (no pipeline, past three
//   health checks: the second that finds a server idle makes it give back its code pages) and
//   playing, the total of APPS Inactive + 1 Active playing, against APPS + 1 idle bare Bun
//   processes (`setInterval(() => {}, 1e9)`) started beside them (goal: an idle session server
//   ≤ 1.5× a bare Bun);
// - idle CPU over a window (default 30 s) with nothing playing and nobody looking, from
//   /proc/<pid>/stat, twice: a minute after start and `--steady-after-s` (default 90) later, where
//   the goals are read (the manager is still compiling its ping path in the first): the APPS session servers together and per app, the manager, against the
//   bare Bun processes, and against bare Bun processes each sent a ping-sized message every 5 s
//   that they echo (the floor of a process the health check wakes) (goals: APPS apps < 2 % of one
//   core together, manager < 0.2 %);
// - whether the kernel's DAMON runs (on this VM kind it sets most of an idle process's CPU per
//   wake-up: BENCHMARKS.md, device-scale step 12);
// - the web monitor's cost (`--http`): the manager scraped every second, and with the page open,
//   against a bare Bun.serve fetched as often (goal: < 0.5 % of a core while scraped);
// - the default configuration, where Inactive apps with no client are parked after
//   `parkInactiveAfterMs` (60 s): a second manager with the same apps, the time until all are
//   parked, its idle CPU with them parked, and its memory with one more app playing.
// Steps 1-5 run their manager with parking off (`--park-inactive-after-ms 0`): every app keeps
// its session server, as an app whose client stays connected does.
// Usage: bun bench/device-scale.ts [--apps N] [--window-s S] [--monitor-window-s S]
//   [--steady-after-s S] [--park-after-ms MS (step 6; default: the manager's default)].
// Last line: one JSON object.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { RialtoClient } from "@rialto/client";
import {
  type ApplicationInfo,
  ControlSocketMethods,
  connectUnix,
  isListening,
  RpcPeer,
} from "@rialto/protocol";
import {
  defaultSessionServerCommand,
  SESSION_SERVER_ENV_DEFAULTS,
  sessionServerBuildStatus,
} from "@rialto/server-manager";
import { ClipPlayer } from "../apps/demo-app/src/clip-player.ts";
import { loadDemoClip } from "../apps/demo-app/src/mp4/index.ts";
import { median, round2 } from "./support/measure.ts";

const { values } = parseArgs({
  options: {
    apps: { type: "string" },
    "window-s": { type: "string" },
    "monitor-window-s": { type: "string" },
    "steady-after-s": { type: "string" },
    "park-after-ms": { type: "string" },
  },
});
const APPS = Number(values.apps ?? 50);
const WINDOW_MS = Number(values["window-s"] ?? 30) * 1000;
const MONITOR_WINDOW_MS = Number(values["monitor-window-s"] ?? 10) * 1000;
const SETTLE_MS = 3000;
/** The daemon's health-check interval (its default). */
const HEALTH_CHECK_MS = 5000;
/**
 * Left alone before the idle window: start-up's JIT and GC work is over on a TV's idle apps, and
 * an idle server's one-off release of its code pages (at its second idle health check) and what
 * the next pings fault back in are over too.
 */
const IDLE_SETTLE_MS = 5 * HEALTH_CHECK_MS;
/**
 * Between the first idle window and the steady one, ms: the manager, which answers fifty pings
 * per health check, was still compiling its ping path a minute after start (its JIT thread 7–14
 * ms and its main thread 35–45 ms per 30 s, against none and 27 ms three minutes after start).
 * Idle apps on a TV run for hours, so the goals are read in the steady window.
 */
const STEADY_AFTER_MS = Number(values["steady-after-s"] ?? 90) * 1000;
/** Left alone before the parked manager's idle window: no session server runs to settle. */
const PARKED_SETTLE_MS = 10_000;
const DEADLINE_MS = 180_000;
/** Bare Bun processes woken like an idle session server, for the idle-CPU floor. */
const WOKEN_BARE = 10;
/**
 * A bare Bun that answers each message on its fd 3 (a socketpair) with the same bytes, read and
 * written through Bun's file I/O as the session server's control channel is: what any Bun
 * process pays to be woken by a health check and answer it, without a line of this project.
 */
const ECHO_SCRIPT =
  "const w = Bun.file(3).writer(); for await (const chunk of Bun.file(3).stream()) { w.write(chunk); w.flush(); }";
/** The size of a health-check ping on the wire (frame header and JSON body), bytes. */
const PING_BYTES = 90;
const PLAYER = "player";
const DAEMON_MAIN = fileURLToPath(import.meta.resolve("@rialto/server-manager/daemon"));
const MiB = 2 ** 20;

const build = sessionServerBuildStatus();
if (!build.fresh) console.log(`warning: the session server runs from its sources: ${build.reason}`);

const dir = mkdtempSync(join(tmpdir(), "rialto-bench-scale-"));
const controlSocket = join(dir, "control.sock");
/** Starts the app that plays, Active with the checksum sink, and waits until it runs. */
async function startPlayer(control: RpcPeer, list: () => Promise<ApplicationInfo[]>) {
  await control.call(ControlSocketMethods.initiateApplication, {
    appId: PLAYER,
    state: "Active",
    config: { playback: { clock: "realtime", sink: "checksum" } },
  });
  return until("the player app Active", async () => {
    const info = (await list()).find((a) => a.appId === PLAYER);
    return info?.state === "Active" && info.pid !== undefined ? info : undefined;
  });
}

/** A client of the app at `socketPath`, Running, playing the demo clip; `stop` ends both. */
async function playDemoClip(socketPath: string) {
  const client = await RialtoClient.connect({ socketPath });
  await client.setApplicationState("Running");
  const clip = await ClipPlayer.open(client, await loadDemoClip());
  await clip.play();
  return {
    async stop() {
      await clip.pipeline.destroy().catch(() => {});
      await client.close();
    },
  };
}

/** A quiet `rialto-server-manager` on `runtimeDir`, as a platform's service unit would start it. */
function spawnDaemon(runtimeDir: string, socket: string, extra: readonly string[]) {
  return Bun.spawn({
    cmd: [
      process.execPath,
      DAEMON_MAIN,
      "--runtime-dir",
      runtimeDir,
      "--control-socket",
      socket,
      "--log-level",
      "error",
      "--session-server-command",
      JSON.stringify([...defaultSessionServerCommand(), "--log-level", "error"]),
      ...extra,
    ],
    // As a device's service unit starts it: the session servers' runtime settings (Bun's GC
    // timer and mimalloc's purge off, see BENCHMARKS.md), which they also get from the manager.
    env: { ...process.env, ...SESSION_SERVER_ENV_DEFAULTS },
    stdio: ["ignore", "pipe", "inherit"],
  });
}
const daemon = spawnDaemon(dir, controlSocket, [
  "--http",
  "127.0.0.1:0",
  "--park-inactive-after-ms",
  "0",
]);
const children: Bun.Subprocess[] = [];
/** The parking manager of step 6 and what it started. */
const parkedChildren: Bun.Subprocess[] = [];
/** Step 6's `--park-inactive-after-ms`; undefined: the manager's default. */
const PARK_AFTER_MS =
  values["park-after-ms"] === undefined ? undefined : Number(values["park-after-ms"]);
// Interrupted (Ctrl-C, a timeout): the daemons stop their own session servers on SIGTERM, so
// nothing this bench started outlives it.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    for (const child of [...parkedChildren, ...children, daemon]) child.kill("SIGTERM");
    process.exit(130);
  });
}

/**
 * Step 6: a manager with parking as configured by default (or `--park-after-ms`): APPS apps
 * started Inactive are parked (no session server), then one more app plays Active for a client
 * of this process. Returns the figures against the bare Bun baseline of step 2 (`bareTotal` for
 * APPS + 1 processes).
 */
async function measureParked(bareTotal: number, bareMedian: number) {
  const parkedDir = mkdtempSync(join(tmpdir(), "rialto-bench-park-"));
  const socket = join(parkedDir, "control.sock");
  const manager = spawnDaemon(
    parkedDir,
    socket,
    PARK_AFTER_MS === undefined ? [] : ["--park-inactive-after-ms", String(PARK_AFTER_MS)],
  );
  parkedChildren.push(manager);
  try {
    await until("the parking manager's control socket", async () =>
      (await isListening(socket)) ? true : undefined,
    );
    const control = new RpcPeer({ name: "bench-device-scale-park", timeoutMs: DEADLINE_MS });
    control.attach(await connectUnix(socket));
    const listParked = async () =>
      (await control.call(ControlSocketMethods.listApplications, {})).applications;
    await Promise.all(
      Array.from({ length: APPS }, (_, i) =>
        control.call(ControlSocketMethods.initiateApplication, {
          appId: `app${i}`,
          state: "Inactive",
        }),
      ),
    );
    const started = performance.now();
    await until(`${APPS} apps parked`, async () => {
      const all = await listParked();
      const done = all.length === APPS && all.every((a) => a.state === "Inactive" && !a.pid);
      return done ? true : undefined;
    });
    const parkedAfterS = (performance.now() - started) / 1000;
    await Bun.sleep(PARKED_SETTLE_MS);
    // The apps' CPU is their session servers': none runs while every app is parked.
    const running = (await listParked()).flatMap((a) => (a.pid ? [a.pid] : []));
    const [managerIdle = 0, ...appsIdle] = await cpuPercent([manager.pid, ...running], WINDOW_MS);
    const managerParkedRss = rssBytes(manager.pid);
    const player = await startPlayer(control, listParked);
    const playing = await playDemoClip(player.socketPath);
    await Bun.sleep(SETTLE_MS);
    const playingRss = rssBytes(player.pid ?? 0);
    const total = playingRss + rssBytes(manager.pid);
    await playing.stop();
    control.close();
    const figures = {
      parkAfterMs: PARK_AFTER_MS ?? "default",
      parkedAfterS: round2(parkedAfterS),
      sessionServersWhileParked: running.length,
      appsIdlePercent: round2(sum(appsIdle)),
      managerIdlePercent: round2(managerIdle),
      managerRssMiB: mib(managerParkedRss),
      activePlayingMiB: mib(playingRss),
      totalWithManagerMiB: mib(total),
      bareTotalMiB: mib(bareTotal),
      totalRatio: round2(total / bareTotal),
      perParkedAppMiB: 0,
      bareBunMiB: mib(bareMedian),
    };
    const setting =
      PARK_AFTER_MS === undefined ? "the default" : `--park-inactive-after-ms ${PARK_AFTER_MS}`;
    console.log(
      `parked (${setting}): ${APPS} Inactive apps with no client all parked ${figures.parkedAfterS} s after they were started; idle CPU over ${WINDOW_MS / 1000} s with them parked: ${APPS} apps ${figures.appsIdlePercent} % of a core together (${running.length} session servers; goal < 2), manager ${figures.managerIdlePercent} % (goal < 0.2), ${figures.managerRssMiB} MiB`,
    );
    console.log(
      `  ${APPS} parked + 1 Active playing: ${figures.totalWithManagerMiB} MiB, manager included, against ${APPS + 1} bare Bun ${figures.bareTotalMiB} MiB (${figures.totalRatio}×)`,
    );
    return figures;
  } finally {
    manager.kill("SIGTERM");
    await manager.exited;
    rmSync(parkedDir, { recursive: true, force: true });
  }
}

async function until<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  describe?: () => string,
) {
  const deadline = performance.now() + DEADLINE_MS;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (performance.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${describe ? `: ${describe()}` : ""}`);
    }
    await Bun.sleep(20);
  }
}

/** The apps of `all` not in `state`, for a timeout's message. */
function notIn(state: string, all: readonly ApplicationInfo[]): string {
  const others = all.filter((app) => app.state !== state);
  return `${all.length} apps, not ${state}: ${JSON.stringify(others)}`;
}

/**
 * Whether the kernel's DAMON runs (this VM kind runs it for proactive reclaim): it clears the
 * accessed bits of pages it samples, and with it off an idle session server's CPU per wake-up
 * fell to a quarter (BENCHMARKS.md, device-scale step 12). Printed so figures from machines
 * with and without it are not mixed up.
 */
function damonState(): string {
  const root = "/sys/kernel/mm/damon/admin/kdamonds";
  try {
    const states = readdirSync(root)
      .filter((name) => /^\d+$/.test(name))
      .map((name) => readFileSync(`${root}/${name}/state`, "utf8").trim());
    return states.length === 0
      ? "DAMON configured with no kdamond"
      : `DAMON kdamonds ${states.join(", ")}`;
  } catch {
    return "no DAMON sysfs interface";
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

function rssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(match?.[1] ?? 0) * 1024;
}

/**
 * Proportional set size and private (anonymous, dirty) bytes: RSS counts the Bun executable's
 * pages that every Bun process shares once per process; PSS splits them among their users.
 */
function sharedAwareBytes(pid: number): { pss: number; private: number } {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const field = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB$`, "m").exec(text)?.[1] ?? 0) * 1024;
  return { pss: field("Pss"), private: field("Private_Dirty") };
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
const mib = (bytes: number) => round2(bytes / MiB);

/** Percent of one core each process used over `ms` while `during` runs. */
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

/** APPS bare `bun -e 0` spawned at once, until all exited, s. */
async function bareSpawnsAtOnce(count: number): Promise<number> {
  const start = performance.now();
  const spawned = Array.from({ length: count }, () =>
    Bun.spawn({ cmd: [process.execPath, "-e", "0"], stdio: ["ignore", "ignore", "ignore"] }),
  );
  await Promise.all(spawned.map((child) => child.exited));
  return (performance.now() - start) / 1000;
}

// The HTTP baseline: a bare Bun server; its body is set to the size of /metrics once known.
const httpBaseline = Bun.spawn({
  cmd: [
    process.execPath,
    "-e",
    `let body = "x"; const s = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: async (r) => {
       if (r.method === "POST") { body = "x".repeat(Number(await r.text())); return new Response("ok"); }
       return new Response(body); } }); console.log(s.port);`,
  ],
  stdio: ["ignore", "pipe", "inherit"],
});
children.push(httpBaseline);

try {
  const baselineUrl = `http://127.0.0.1:${await readUntil(httpBaseline.stdout, /^(\d+)\n/)}/`;
  const url = await readUntil(daemon.stdout, /monitor at (\S+)\n/);
  await until("the control socket", async () =>
    (await isListening(controlSocket)) ? true : undefined,
  );
  const peer = new RpcPeer({ name: "bench-device-scale", timeoutMs: DEADLINE_MS });
  peer.attach(await connectUnix(controlSocket));
  const list = async (): Promise<ApplicationInfo[]> =>
    (await peer.call(ControlSocketMethods.listApplications, {})).applications;

  // Step 1: APPS apps started at once, against APPS bare Bun spawns at once.
  const bareStartSeconds = await bareSpawnsAtOnce(APPS);
  const startedAt = performance.now();
  await Promise.all(
    Array.from({ length: APPS }, (_, i) =>
      peer.call(ControlSocketMethods.initiateApplication, { appId: `app${i}`, state: "Inactive" }),
    ),
  );
  let last: ApplicationInfo[] = [];
  const apps = await until(
    `${APPS} apps Inactive`,
    async () => {
      last = await list();
      return last.length === APPS && last.every((a) => a.state === "Inactive") ? last : undefined;
    },
    () => notIn("Inactive", last),
  );
  const startSeconds = (performance.now() - startedAt) / 1000;
  console.log(
    `${APPS} apps started at once: Inactive after ${round2(startSeconds)} s (${APPS} bare bun -e 0 at once: ${round2(bareStartSeconds)} s; goal ≤ 3 s)`,
  );

  // Step 2: the bare Bun baseline for memory and idle CPU, one per app plus one.
  for (let i = 0; i <= APPS; i++) {
    children.push(
      Bun.spawn({
        cmd: [process.execPath, "-e", "setInterval(() => {}, 1e9)"],
        stdio: ["ignore", "ignore", "ignore"],
      }),
    );
  }
  const bare = children.slice(1);
  // And bare Bun processes sent a ping-sized message every health-check interval, as the
  // session servers are: the floor of an idle server that must answer its health check.
  const woken = Array.from({ length: WOKEN_BARE }, () =>
    Bun.spawn({
      cmd: [process.execPath, "-e", ECHO_SCRIPT],
      stdio: ["ignore", "ignore", "inherit", "socket-fd"],
      // The runtime settings a session server gets, so the floor is the same runtime's.
      env: { ...process.env, ...SESSION_SERVER_ENV_DEFAULTS },
    }),
  );
  children.push(...woken);
  const message = new Uint8Array(PING_BYTES).fill(0x20);
  const wake = setInterval(() => {
    for (const child of woken) writeSync(child.stdio[3] as number, message);
  }, HEALTH_CHECK_MS);
  await Bun.sleep(IDLE_SETTLE_MS);
  const sessionServers = apps.map((a) => a.pid ?? 0).filter((pid) => pid > 0);

  // Step 3: idle CPU, nothing playing, nobody looking: once a minute after start (the manager
  // still compiling), and again STEADY_AFTER_MS later, the figures the goals are read in.
  const idlePids = [
    daemon.pid,
    ...sessionServers,
    ...bare.map((b) => b.pid),
    ...woken.map((w) => w.pid),
  ];
  const idleFigures = (percents: number[]) => {
    const servers = percents.slice(1, 1 + sessionServers.length);
    const bares = percents.slice(1 + sessionServers.length, -woken.length);
    return {
      manager: round2(percents[0] ?? 0),
      sessionServers: round2(sum(servers)),
      perApp: round2(sum(servers) / sessionServers.length),
      bareBun: round2(sum(bares) / bare.length),
      bareBunWoken: round2(sum(percents.slice(-woken.length)) / woken.length),
    };
  };
  const damon = damonState();
  console.log(`kernel memory monitoring: ${damon}`);
  const idleEarly = idleFigures(await cpuPercent(idlePids, WINDOW_MS));
  await Bun.sleep(STEADY_AFTER_MS);
  const idle = idleFigures(await cpuPercent(idlePids, WINDOW_MS));
  clearInterval(wake);
  for (const [when, figures] of [
    ["a minute after start", idleEarly],
    [`${(STEADY_AFTER_MS + WINDOW_MS) / 1000} s later (steady)`, idle],
  ] as const) {
    console.log(
      `idle CPU over ${WINDOW_MS / 1000} s, ${when}, parking off: ${APPS} session servers ${figures.sessionServers} % of a core together (goal < 2), ${figures.perApp} % each (bare Bun ${figures.bareBun} % each; bare Bun answering a ${PING_BYTES}-byte message every ${HEALTH_CHECK_MS / 1000} s ${figures.bareBunWoken} % each, ${round2(figures.bareBunWoken * APPS)} % for ${APPS}); manager ${figures.manager} % (goal < 0.2)`,
    );
  }

  // Step 4: memory, Inactive; then one more app Active, idle, then playing for a client here.
  const inactiveRss = sessionServers.map(rssBytes);
  const bareRss = bare.map((b) => rssBytes(b.pid));
  const bareMedian = median(bareRss);
  const player = await startPlayer(peer, list);
  await Bun.sleep(3 * HEALTH_CHECK_MS + SETTLE_MS);
  const activeIdleRss = rssBytes(player.pid ?? 0);
  const playing = await playDemoClip(player.socketPath);
  await Bun.sleep(SETTLE_MS);
  const activePlayingRss = rssBytes(player.pid ?? 0);
  const stillInactiveRss = sessionServers.map(rssBytes);
  const totalRss = sum(stillInactiveRss) + activePlayingRss;
  const ours = [...sessionServers, player.pid ?? 0].map(sharedAwareBytes);
  const theirs = bare.map((b) => sharedAwareBytes(b.pid));
  const memory = {
    bareBunMiB: mib(bareMedian),
    inactiveMiB: mib(median(inactiveRss)),
    inactiveRatio: round2(median(inactiveRss) / bareMedian),
    activeIdleMiB: mib(activeIdleRss),
    activeIdleRatio: round2(activeIdleRss / bareMedian),
    activePlayingMiB: mib(activePlayingRss),
    totalMiB: mib(totalRss),
    bareTotalMiB: mib(sum(bareRss)),
    totalRatio: round2(totalRss / sum(bareRss)),
    totalPssMiB: mib(sum(ours.map((m) => m.pss))),
    bareTotalPssMiB: mib(sum(theirs.map((m) => m.pss))),
    privateMiB: mib(median(ours.slice(0, -1).map((m) => m.private))),
    barePrivateMiB: mib(median(theirs.map((m) => m.private))),
  };
  console.log(
    `memory (VmRSS): Inactive session server ${memory.inactiveMiB} MiB (${memory.inactiveRatio}× a bare Bun's ${memory.bareBunMiB} MiB; goal ≤ 1.5), Active idle ${memory.activeIdleMiB} MiB (${memory.activeIdleRatio}×), Active playing ${memory.activePlayingMiB} MiB`,
  );
  console.log(
    `memory total: ${APPS} Inactive + 1 Active playing ${memory.totalMiB} MiB against ${APPS + 1} bare Bun ${memory.bareTotalMiB} MiB (${memory.totalRatio}×)`,
  );
  console.log(
    `  counting the shared Bun executable once (PSS): ${memory.totalPssMiB} MiB against ${memory.bareTotalPssMiB} MiB; private memory of an Inactive session server ${memory.privateMiB} MiB (bare Bun ${memory.barePrivateMiB} MiB)`,
  );
  await playing.stop();
  await peer.call(ControlSocketMethods.changeSessionServerState, {
    appId: PLAYER,
    state: "NotRunning",
  });
  for (const child of bare) child.kill();

  // Step 5: the web monitor's cost: nobody looking, scraped every second, and with the page open.
  const pids = [daemon.pid, httpBaseline.pid, ...sessionServers];
  const summarise = (percents: number[]) => ({
    manager: round2(percents[0] ?? 0),
    bareBunServer: round2(percents[1] ?? 0),
    sessionServers: round2(sum(percents.slice(2))),
  });
  const metricsBytes = (await (await fetch(new URL("metrics", url))).text()).length;
  await fetch(baselineUrl, { method: "POST", body: String(metricsBytes) });
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
    await cpuPercent(pids, MONITOR_WINDOW_MS, async () => {
      loop = scraper();
    }),
  );
  console.log(
    `scraped every second:        manager ${scraped.manager} % of a core (bare Bun server fetched as often ${scraped.bareBunServer} %; scrape ${round2(median(scrapeMs))} ms median, ${scrapeBytes} bytes; goal < 0.5)`,
  );
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
  const withPage = summarise(await cpuPercent(pids, MONITOR_WINDOW_MS));
  console.log(
    `scraped + page open:         manager ${withPage.manager} % of a core (bare Bun server ${withPage.bareBunServer} %)`,
  );
  scraping = false;
  abort.abort();
  await Promise.all([loop, drain]);
  peer.close();

  // Step 6: the same apps under the default configuration (a second manager): Inactive apps with
  // no client are parked, no process at all; one Active app plays for a client here.
  const parked = await measureParked(sum(bareRss), bareMedian);

  const goals = {
    start: startSeconds <= 3,
    idleMemory: memory.inactiveRatio <= 1.5 && memory.activeIdleRatio <= 1.5,
    // Idle CPU under the default configuration: the idle apps are parked.
    idleCpuApps: parked.appsIdlePercent < 2,
    idleCpuManager: parked.managerIdlePercent < 0.2,
    // The same goals with every app keeping its session server (parking off, or a client each).
    idleCpuAppsUnparked: idle.sessionServers < 2,
    idleCpuManagerUnparked: idle.manager < 0.2,
    monitor: scraped.manager < 0.5,
  };
  console.log(
    `goals: ${Object.entries(goals)
      .map(([name, met]) => `${name} ${met ? "met" : "NOT met"}`)
      .join(", ")}`,
  );
  console.log(
    JSON.stringify({
      bench: "device-scale",
      apps: APPS,
      build: build.fresh ? "bundle" : "sources",
      windowS: WINDOW_MS / 1000,
      damon,
      startSeconds: round2(startSeconds),
      bareStartSeconds: round2(bareStartSeconds),
      idle,
      idleEarly,
      memory,
      scraped,
      scrapedWithPage: withPage,
      scrapeMedianMs: round2(median(scrapeMs)),
      scrapeBytes,
      parked,
      goals,
    }),
  );
} finally {
  for (const child of parkedChildren) child.kill();
  for (const child of children) child.kill();
  daemon.kill("SIGTERM");
  await Promise.all([
    daemon.exited,
    ...children.map((child) => child.exited),
    ...parkedChildren.map((child) => child.exited),
  ]);
  rmSync(dir, { recursive: true, force: true });
}
