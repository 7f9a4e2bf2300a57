// Builds the shipped session server: one bytecode bundle, dist/rialto-session-server.js, run by
// Bun. It starts several times faster than the sources (no module graph to resolve and
// transpile, no parsing), and the server manager runs it by default while it is newer than
// everything it bundles. Names stay unminified so stack traces stay readable; `--sourcemap` adds a
// linked source map for debugging, off by default because Bun parses it (1.7 MB) whenever a
// stack trace is captured, and pino captures one when the logger is created: +17 ms per start.
import { renameSync, rmSync, writeFileSync } from "node:fs";
import { relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const PACKAGE = fileURLToPath(new URL("..", import.meta.url));
const OUT_DIR = `${PACKAGE}dist`;
// Built beside and renamed into place: an interrupted build never leaves a partial bundle that
// is newer than the sources (the manager would run it).
const BUILD_DIR = `${PACKAGE}dist.building-${process.pid}`;

const started = performance.now();
rmSync(BUILD_DIR, { recursive: true, force: true });
const result = await Bun.build({
  entrypoints: [`${PACKAGE}src/main.ts`],
  outdir: BUILD_DIR,
  naming: "rialto-session-server.[ext]",
  target: "bun",
  // Bytecode outside `bun build --compile` needs CommonJS output.
  format: "cjs",
  bytecode: true,
  minify: { syntax: true, whitespace: true, identifiers: false },
  sourcemap: process.argv.includes("--sourcemap") ? "linked" : "none",
  // The files read, for the input list below.
  metafile: true,
} as Parameters<typeof Bun.build>[0]);
if (!result.success) {
  for (const log of result.logs) console.error(log);
  console.error("session server build failed");
  rmSync(BUILD_DIR, { recursive: true, force: true });
  process.exit(1);
}
// Every file the build read (relative to this package): the server manager runs the bundle only
// while none of them changed, so files the build never reads (tests, bun.lock) cannot make it
// stale.
const metafile = (result as unknown as { metafile?: { inputs: Record<string, unknown> } }).metafile;
const inputs = Object.keys(metafile?.inputs ?? {})
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
const entry = result.outputs.find((output) => output.kind === "entry-point");
const megabytes = ((entry?.size ?? 0) / 2 ** 20).toFixed(2);
rmSync(OUT_DIR, { recursive: true, force: true });
renameSync(BUILD_DIR, OUT_DIR);
console.log(
  `built packages/session-server/dist/rialto-session-server.js (${megabytes} MB + bytecode) in ${Math.round(performance.now() - started)} ms`,
);
