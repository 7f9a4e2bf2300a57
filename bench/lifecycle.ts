// Session lifecycle: how long the manager's default session server (the bytecode bundle of
// `bun run build`) takes to come up (initiateApplication(Inactive) → stateChanged(Inactive))
// against a bare `bun -e 0` spawn-to-exit in the same run (goal: ratio <= 3), the same from a
// preloaded server (goal: <= 0.25 of the cold figure), an app switch, and the resident memory of
// an idle session server (past three health checks) against an idle bare Bun (goal: ratio <=
// 1.5). The same figures for the session server run from its sources and compiled to one binary
// (`bun build --compile --bytecode`), and a start-up breakdown (what loading each layer costs),
// explain the gap.
// Last line: one JSON object with the figures.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { SessionServerState } from "@rialto/protocol";
import {
  defaultSessionServerCommand,
  SESSION_SERVER_LAYOUT,
  ServerManager,
  type ServerManagerOptions,
} from "@rialto/server-manager";
import { startChild } from "./support/child-process.ts";
import { median, round2 } from "./support/measure.ts";
import { quick } from "./support/quick.ts";

const ROUNDS = quick(20, 3);
const WARMUP = 2;
const BREAKDOWN_ROUNDS = quick(10, 2);
const IDLE_SAMPLES = 3;
/** How long a process is left alone before its resident memory is read, ms. */
const SETTLE_MS = 1000;
/**
 * The health-check interval of the idle-memory step, ms: an idle session server gives back its
 * code pages after the second health check that finds it idle, and the third faults back in what
 * a ping runs; its memory is read after them.
 */
const IDLE_HEALTH_CHECK_MS = 1000;
const DEADLINE_MS = 30_000;

const REPO = fileURLToPath(new URL("..", import.meta.url));
const SESSION_SERVER_MAIN = SESSION_SERVER_LAYOUT.main;
/** The manager's default session server command: no arguments; quiet until configured (level error). */
const DEFAULT_COMMAND = [...defaultSessionServerCommand()];
/** The session server run from its sources, as in development before `bun run build`. */
const SOURCES_COMMAND = [process.execPath, SESSION_SERVER_MAIN];
const dir = mkdtempSync(join(tmpdir(), "rialto-bench-lifecycle-"));

/** Wall time of `cmd` from spawn to exit, ms. */
async function spawnToExit(cmd: string[], cwd = REPO): Promise<number> {
  const start = performance.now();
  const child = Bun.spawn({ cmd, cwd, stdio: ["ignore", "ignore", "ignore"] });
  const code = await child.exited;
  if (code !== 0) throw new Error(`${cmd.join(" ")} exited with ${code}`);
  return performance.now() - start;
}

/** Resolves when `manager` announces `appId` in `state` (listen before acting). */
function untilState(manager: ServerManager, appId: string, state: SessionServerState) {
  return new Promise<void>((resolve, reject) => {
    const deadline = setTimeout(() => {
      manager.off("stateChanged", listener);
      reject(new Error(`${appId} did not become ${state} within ${DEADLINE_MS} ms`));
    }, DEADLINE_MS);
    const listener = (id: string, reached: SessionServerState) => {
      if (id !== appId || reached !== state) return;
      clearTimeout(deadline);
      manager.off("stateChanged", listener);
      resolve();
    };
    manager.on("stateChanged", listener);
  });
}

function createManager(name: string, options: ServerManagerOptions = {}): ServerManager {
  return new ServerManager({
    runtimeDir: join(dir, name),
    logLevel: "error",
    // A start from the sources on a loaded machine can take over the 1 s default; what is
    // measured is the time, not whether it beats the timer.
    readyTimeoutMs: DEADLINE_MS,
    sessionServerCommand: DEFAULT_COMMAND,
    ...options,
  });
}

/** initiateApplication(Inactive) → stateChanged(Inactive), ms; the app is stopped afterwards. */
async function timeInitiate(manager: ServerManager, appId: string): Promise<number> {
  const inactive = untilState(manager, appId, "Inactive");
  const start = performance.now();
  await manager.initiateApplication(appId, "Inactive");
  await inactive;
  const elapsed = performance.now() - start;
  const stopped = untilState(manager, appId, "NotRunning");
  await manager.changeSessionServerState(appId, "NotRunning");
  await stopped;
  return elapsed;
}

/** Waits (polling) until the manager's preloaded server is ready for an app. */
async function preloadedReady(manager: ServerManager): Promise<void> {
  const deadline = performance.now() + DEADLINE_MS;
  while (manager.listPreloadedServers()[0]?.ready !== true) {
    if (performance.now() > deadline) throw new Error("no preloaded server became ready");
    await Bun.sleep(5);
  }
}

/** Cold starts of `command`, each after a bare spawn (interleaved, so both see the same load). */
async function coldStarts(name: string, command: readonly string[]) {
  await using manager = createManager(name, { sessionServerCommand: command });
  const bare: number[] = [];
  const cold: number[] = [];
  for (let round = 0; round < WARMUP + ROUNDS; round++) {
    const bareMs = await spawnToExit([process.execPath, "-e", "0"]);
    const coldMs = await timeInitiate(manager, `${name}-${round}`);
    if (round < WARMUP) continue;
    bare.push(bareMs);
    cold.push(coldMs);
  }
  return { bare, cold };
}

async function preloadedStarts(): Promise<number[]> {
  await using manager = createManager("preloaded", { preloadedServers: 1 });
  const samples: number[] = [];
  for (let round = 0; round < WARMUP + ROUNDS; round++) {
    await preloadedReady(manager);
    const ms = await timeInitiate(manager, `preloaded-${round}`);
    if (round >= WARMUP) samples.push(ms);
  }
  return samples;
}

/** App 1 Active → Inactive (waiting for stateChanged), then app 2 Inactive → Active, ms. */
async function appSwitches(): Promise<number[]> {
  await using manager = createManager("switch");
  let [active, inactive] = ["switch-a", "switch-b"];
  const started = [
    untilState(manager, active, "Active"),
    untilState(manager, inactive, "Inactive"),
  ];
  await manager.initiateApplication(active, "Active");
  await manager.initiateApplication(inactive, "Inactive");
  await Promise.all(started);
  const samples: number[] = [];
  for (let round = 0; round < WARMUP + ROUNDS; round++) {
    const released = untilState(manager, active, "Inactive");
    const taken = untilState(manager, inactive, "Active");
    const start = performance.now();
    await manager.changeSessionServerState(active, "Inactive");
    await released;
    await manager.changeSessionServerState(inactive, "Active");
    await taken;
    if (round >= WARMUP) samples.push(performance.now() - start);
    [active, inactive] = [inactive, active];
  }
  return samples;
}

function vmRssKiB(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (match === null) throw new Error(`no VmRSS for ${pid}`);
  return Number(match[1]);
}

/**
 * VmRSS of idle session servers (configured Inactive, then left alone for three health checks and
 * {@link SETTLE_MS}), KiB each.
 */
async function idleSessionServerRss(name: string, command: readonly string[]) {
  await using manager = createManager(name, {
    sessionServerCommand: command,
    healthCheckIntervalMs: IDLE_HEALTH_CHECK_MS,
  });
  const appIds = Array.from({ length: IDLE_SAMPLES }, (_, i) => `${name}-idle-${i}`);
  for (const appId of appIds) {
    const inactive = untilState(manager, appId, "Inactive");
    await manager.initiateApplication(appId, "Inactive");
    await inactive;
  }
  await Bun.sleep(3 * IDLE_HEALTH_CHECK_MS + SETTLE_MS);
  return appIds.map((appId) => {
    const pid = manager.listApplications().find((app) => app.appId === appId)?.pid;
    if (pid === undefined) throw new Error(`${appId} has no process`);
    return vmRssKiB(pid);
  });
}

/** VmRSS of idle bare Bun processes (a timer keeps them alive), KiB each. */
async function idleBareRss(): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < IDLE_SAMPLES; i++) {
    await using child = await startChild([
      "-e",
      "setInterval(() => {}, 1 << 30); console.log('ready');",
    ]);
    await Bun.sleep(SETTLE_MS);
    samples.push(vmRssKiB(child.process.pid));
  }
  return samples;
}

/** `bun build --compile --bytecode` of the session server; undefined (with the reason) if it fails. */
async function compileSessionServer(): Promise<string | undefined> {
  const binary = join(dir, "rialto-session-server");
  const child = Bun.spawn({
    cmd: [
      process.execPath,
      "build",
      SESSION_SERVER_MAIN,
      "--compile",
      "--bytecode",
      "--outfile",
      binary,
    ],
    cwd: REPO,
    stdio: ["ignore", "ignore", "pipe"],
  });
  const code = await child.exited;
  if (code === 0) return binary;
  console.log(
    `  (compiling the session server failed: ${await new Response(child.stderr).text()})`,
  );
  return undefined;
}

/** Spawn-to-exit p50 of loading each layer of the session server, ms. */
async function startupBreakdown(binary: string | undefined) {
  const sessionServerDir = SESSION_SERVER_LAYOUT.packageDir;
  const steps: [string, string[], string][] = [
    ["bun -e 0", [process.execPath, "-e", "0"], REPO],
    ["import pino", [process.execPath, "-e", "await import('pino')"], sessionServerDir],
    [
      "import typebox/compile",
      [process.execPath, "-e", "await import('typebox/compile')"],
      dirname(fileURLToPath(import.meta.resolve("@rialto/protocol/package.json"))),
    ],
    [
      "import @rialto/protocol",
      [process.execPath, "-e", "await import('@rialto/protocol')"],
      sessionServerDir,
    ],
    ["session server sources --help", [process.execPath, SESSION_SERVER_MAIN, "--help"], REPO],
    ["default session server --help", [...DEFAULT_COMMAND.slice(0, 2), "--help"], REPO],
  ];
  if (binary !== undefined) steps.push(["compiled binary --help", [binary, "--help"], REPO]);
  const result: Record<string, number> = {};
  for (const [label, cmd, cwd] of steps) {
    const samples: number[] = [];
    for (let i = 0; i < BREAKDOWN_ROUNDS; i++) samples.push(await spawnToExit(cmd, cwd));
    result[label] = median(samples);
  }
  return result;
}

function row(label: string, value: string, note = ""): void {
  console.log(`  ${label.padEnd(58)} ${value.padStart(10)}  ${note}`);
}

/** Cold start and idle memory of another way to run the session server, with its own bare figure. */
async function alternative(name: string, command: readonly string[], bareRss: number) {
  const { bare, cold } = await coldStarts(name, command);
  const coldMs = median(cold);
  const bareMs = median(bare);
  const rssKiB = median(await idleSessionServerRss(`rss-${name}`, command));
  return {
    coldInactiveMs: round2(coldMs),
    bareSpawnMs: round2(bareMs),
    coldRatio: round2(coldMs / bareMs),
    rssKiB,
    rssRatio: round2(rssKiB / bareRss),
  };
}

try {
  console.log(`session lifecycle, p50 of ${ROUNDS} after ${WARMUP} warm-up rounds each`);
  const entry = DEFAULT_COMMAND[1] ?? "";
  if (!entry.endsWith(".js")) {
    console.log("  (no fresh build: the default runs the sources; run `bun run build` first)");
  }
  console.log(`  default session server: ${entry.slice(REPO.length)}`);
  const { bare, cold } = await coldStarts("cold", DEFAULT_COMMAND);
  const preloaded = await preloadedStarts();
  const switches = await appSwitches();
  const bareRss = median(await idleBareRss());
  const serverRss = median(await idleSessionServerRss("rss", DEFAULT_COMMAND));
  const alternatives: Record<string, Awaited<ReturnType<typeof alternative>>> = {
    sources: await alternative("sources", SOURCES_COMMAND, bareRss),
  };
  const binary = await compileSessionServer();
  if (binary !== undefined) {
    alternatives.compiled = await alternative("compiled", [binary], bareRss);
  }
  const breakdown = await startupBreakdown(binary);

  const bareMs = median(bare);
  const coldMs = median(cold);
  const preloadedMs = median(preloaded);
  const switchMs = median(switches);
  row("bare `bun -e 0` spawn-to-exit", `${bareMs.toFixed(1)} ms`);
  row(
    "initiateApplication(Inactive) → stateChanged(Inactive)",
    `${coldMs.toFixed(1)} ms`,
    `ratio ${(coldMs / bareMs).toFixed(2)} (goal <= 3)`,
  );
  row(
    "the same from a preloaded server (preloadedServers: 1)",
    `${preloadedMs.toFixed(1)} ms`,
    `of cold ${(preloadedMs / coldMs).toFixed(3)} (goal <= 0.25)`,
  );
  row("app switch: app 1 Active → Inactive, then app 2 → Active", `${switchMs.toFixed(1)} ms`);
  row("VmRSS idle bare Bun", `${bareRss} KiB`);
  row(
    "VmRSS idle session server (Inactive)",
    `${serverRss} KiB`,
    `ratio ${(serverRss / bareRss).toFixed(2)} (goal <= 1.5)`,
  );
  for (const [name, figures] of Object.entries(alternatives)) {
    row(`${name}: bare \`bun -e 0\` in its rounds`, `${figures.bareSpawnMs.toFixed(1)} ms`);
    row(
      `${name}: initiate(Inactive) → Inactive`,
      `${figures.coldInactiveMs.toFixed(1)} ms`,
      `ratio ${figures.coldRatio.toFixed(2)}`,
    );
    row(`${name}: VmRSS idle (Inactive)`, `${figures.rssKiB} KiB`, `ratio ${figures.rssRatio}`);
  }
  console.log(`start-up breakdown: spawn-to-exit p50 of ${BREAKDOWN_ROUNDS}`);
  for (const [label, ms] of Object.entries(breakdown)) row(label, `${ms.toFixed(1)} ms`);

  console.log(
    JSON.stringify({
      benchmark: "lifecycle",
      rounds: ROUNDS,
      sessionServer: entry.slice(REPO.length),
      bareSpawnMs: round2(bareMs),
      coldInactiveMs: round2(coldMs),
      coldRatio: round2(coldMs / bareMs),
      preloadedInactiveMs: round2(preloadedMs),
      preloadedOfCold: round2(preloadedMs / coldMs),
      appSwitchMs: round2(switchMs),
      bareRssKiB: bareRss,
      sessionServerRssKiB: serverRss,
      rssRatio: round2(serverRss / bareRss),
      alternatives,
      startupBreakdownMs: Object.fromEntries(
        Object.entries(breakdown).map(([label, ms]) => [label, round2(ms)]),
      ),
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
