// Builds the shipped session server: a bytecode bundle, dist/rialto-session-server.js, run by
// Bun, and beside it the clients bundle (src/clients-bundle.ts), the side that serves clients,
// which the session server loads when its first client connects, and two bundles loaded on first
// use: TypeBox's checker and compiler, and pino (scripts/typebox-ahead-of-time.ts). It starts
// several times faster than the sources (no module graph to resolve and transpile, no parsing),
// and the server manager runs it by default while it is newer than everything the bundles hold. Names stay unminified
// so stack traces stay readable; `--sourcemap` adds a linked source map for debugging, off by
// default because Bun parses it (1.7 MB) whenever a stack trace is captured, and pino captures
// one when the logger is created: +17 ms per start.
import { renameSync, rmSync, writeFileSync } from "node:fs";
import { relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { BunPlugin } from "bun";
import {
  CLIENTS_BUNDLE_FILE,
  SHARED_PACKAGES,
  SHARED_PACKAGES_KEY,
} from "../src/clients-bundle.ts";
import {
  aheadOfTimePlugin,
  controlPathSchemas,
  LAZY_BUNDLES,
  lazyBundleEntry,
  recordCalls,
  recordingPlugin,
} from "./typebox-ahead-of-time.ts";

const PACKAGE = fileURLToPath(new URL("..", import.meta.url));
const OUT_DIR = `${PACKAGE}dist`;
// Built beside and renamed into place: an interrupted build never leaves a partial bundle that
// is newer than the sources (the manager would run it).
const BUILD_DIR = `${PACKAGE}dist.building-${process.pid}`;

const started = performance.now();
rmSync(BUILD_DIR, { recursive: true, force: true });

/** Options both bundles share. */
const COMMON = {
  outdir: BUILD_DIR,
  target: "bun",
  // Bytecode outside `bun build --compile` needs CommonJS output.
  format: "cjs",
  bytecode: true,
  minify: { syntax: true, whitespace: true, identifiers: false },
  sourcemap: process.argv.includes("--sourcemap") ? "linked" : "none",
  // The files read, for the input list below.
  metafile: true,
} as const;

// The session server: everything but its clients' side, which it loads from the clients bundle
// (a path relative to this bundle, resolved when it is required) once a client connects.
const SERVER = {
  entrypoints: [`${PACKAGE}src/main.ts`],
  naming: "rialto-session-server.[ext]",
  define: { RIALTO_CLIENTS_BUNDLE: JSON.stringify(`./${CLIENTS_BUNDLE_FILE}`) },
  // Matched by file name: Bun checks a relative specifier against the externals once resolved.
  external: [CLIENTS_BUNDLE_FILE, ...Object.keys(LAZY_BUNDLES)].map((file) => `*/${file}`),
};
// First the same bundle with TypeBox's builder calls recorded, loaded here to record them.
const recording = await Bun.build({
  ...COMMON,
  ...SERVER,
  outdir: `${BUILD_DIR}/recording`,
  bytecode: false,
  metafile: false,
  plugins: [recordingPlugin()],
} as Parameters<typeof Bun.build>[0]);
if (!recording.success) fail([recording]);
const calls = recordCalls(`${BUILD_DIR}/recording/rialto-session-server.js`);
rmSync(`${BUILD_DIR}/recording`, { recursive: true, force: true });
const precompiled = controlPathSchemas();
const server = await Bun.build({
  ...COMMON,
  ...SERVER,
  plugins: [aheadOfTimePlugin(calls, precompiled)],
} as Parameters<typeof Bun.build>[0]);
// The packages loaded on first use, from entries written here and removed after.
const lazyEntries = Object.keys(LAZY_BUNDLES).map((file) => `${BUILD_DIR}/entry-${file}`);
const lazy = [];
for (const [index, file] of Object.keys(LAZY_BUNDLES).entries()) {
  writeFileSync(lazyEntries[index] as string, lazyBundleEntry(file));
  lazy.push(
    await Bun.build({
      ...COMMON,
      entrypoints: [lazyEntries[index]],
      naming: file.replace(/\.js$/, ".[ext]"),
    } as Parameters<typeof Bun.build>[0]),
  );
}
for (const entry of lazyEntries) rmSync(entry);
// The clients' side, taking the shared packages from the session server's bundle.
const clients = await Bun.build({
  ...COMMON,
  entrypoints: [`${PACKAGE}src/clients/client-sessions.ts`],
  naming: CLIENTS_BUNDLE_FILE.replace(/\.js$/, ".[ext]"),
  plugins: [sharedPackagesPlugin()],
} as Parameters<typeof Bun.build>[0]);
const results = [server, clients, ...lazy];
if (results.some((result) => !result.success)) fail(results);
// Every file the builds read (relative to this package): the server manager runs the bundle only
// while none of them changed, so files the build never reads (tests, bun.lock) cannot make it
// stale.
const inputs = [
  ...new Set(
    results.flatMap((result) => {
      const metafile = (result as unknown as { metafile?: { inputs: Record<string, unknown> } })
        .metafile;
      // Not the modules plugins make (`shared:`, `replay:`, ...) nor the lazy bundles' entries.
      return Object.keys(metafile?.inputs ?? {}).filter(
        (input) => !/^[a-z]+:/.test(input) && !lazyEntries.includes(resolve(process.cwd(), input)),
      );
    }),
  ),
]
  .map((input) => relative(PACKAGE, resolve(process.cwd(), input)))
  .sort();
if (inputs.length === 0) {
  console.error("session server build: Bun reported no inputs (metafile)");
  rmSync(BUILD_DIR, { recursive: true, force: true });
  process.exit(1);
}
writeFileSync(
  `${BUILD_DIR}/rialto-session-server.inputs.json`,
  `${JSON.stringify({ inputs }, null, 1)}\n`,
);
// Read before the rename: an artifact's size is read from its file.
const sizes = results.map((result) => {
  const entry = result.outputs.find((output) => output.kind === "entry-point");
  return `${entry?.path.split("/").pop()} ${((entry?.size ?? 0) / 2 ** 20).toFixed(2)} MB`;
});
rmSync(OUT_DIR, { recursive: true, force: true });
renameSync(BUILD_DIR, OUT_DIR);
console.log(
  `built packages/session-server/dist/: ${sizes.join(", ")}, each with bytecode; ${calls.length} TypeBox calls replayed, ${precompiled.length} checks compiled ahead of time; in ${Math.round(performance.now() - started)} ms`,
);

function fail(results: readonly Awaited<ReturnType<typeof Bun.build>>[]): never {
  for (const result of results) for (const log of result.logs) console.error(log);
  console.error("session server build failed");
  rmSync(BUILD_DIR, { recursive: true, force: true });
  process.exit(1);
}

/**
 * Resolves the packages the session server's bundle shares ({@link SHARED_PACKAGES}) to its
 * instances, found in the global registry it fills before loading the clients bundle.
 */
function sharedPackagesPlugin(): BunPlugin {
  const names = Object.keys(SHARED_PACKAGES);
  const pattern = new RegExp(`^(${names.map((name) => name.replace(/[/]/g, "\\/")).join("|")})$`);
  return {
    name: "rialto-shared-packages",
    setup(build) {
      build.onResolve({ filter: pattern }, (args) => ({ path: args.path, namespace: "shared" }));
      build.onLoad({ filter: /.*/, namespace: "shared" }, (args) => ({
        contents: `module.exports = globalThis[Symbol.for(${JSON.stringify(SHARED_PACKAGES_KEY.description)})][${JSON.stringify(args.path)}];`,
        loader: "js",
      }));
    },
  };
}
