// `bun run conformance [DIR] [--engine NAME]... [-- DEMO-ARGS...]`: plays every MP4 of DIR
// (default ../shared/media/real-world when it exists) with the demo, `--fast`, through the whole
// system (server manager, session server, client, shared memory), and prints one line per file
// and "N passed, N failed". The demo checks its demuxer against ffprobe and the rendered
// checksums against the file (clear), or against the clear twin / ffmpeg's decryption
// (encrypted); a file passes when the demo exits 0.
//
// - DASH sets (`X-init.mp4` + `X-seg1.m4s`..., or `X-init.mp4` + `X-1.m4s`...) are played as
//   their concatenation (init + segments in order), written to a temporary file.
// - Encrypted files get their key and clear twin from DIR/PROVENANCE.md's "Encrypted files"
//   table (`kid` : `key` cells, "same as above", the first `.mp4` of the clear-reference cell);
//   an encrypted file without a published key is skipped and counted apart.
// - Then the demuxer alone takes every file cut at random points and with random bytes
//   overwritten (FUZZ_RUNS of each per file): only typed errors (RialtoError INVALID_ARGUMENT)
//   may come out, none slower than a second; the line says how many, and a failure fails the run.
// - `--engine NAME` (repeatable) plays every file once per engine, passing `--engine NAME` to
//   the demo; `virtual` passes nothing. Default: virtual, plus gstreamer when the demo's usage
//   lists `--engine` and GStreamer is installed. Arguments after `--` go to the demo as is.
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { readMp4 } from "../apps/demo-app/src/mp4/index.ts";

const ROOT = resolve(import.meta.dir, "..");
const DEMO_MAIN = join(ROOT, "apps/demo-app/src/main.ts");
const DEFAULT_DIR = resolve(ROOT, "../shared/media/real-world");

interface Options {
  readonly dir: string;
  readonly engines: readonly string[];
  readonly demoArgs: readonly string[];
}

function parseOptions(args: readonly string[]): Options {
  const split = args.indexOf("--");
  const { values, positionals } = parseArgs({
    args: split === -1 ? [...args] : args.slice(0, split),
    options: { engine: { type: "string", multiple: true } },
    strict: true,
    allowPositionals: true,
  });
  const engines = values.engine ?? [];
  if (engines.some((e) => e === "")) throw new Error("--engine needs a name (virtual, gstreamer)");
  if (positionals.length > 1)
    throw new Error(`one directory at most, got ${positionals.join(" ")}`);
  return {
    dir: positionals[0] === undefined ? DEFAULT_DIR : resolve(positionals[0]),
    engines: engines.length > 0 ? engines : defaultEngines(),
    demoArgs: split === -1 ? [] : args.slice(split + 1),
  };
}

/**
 * The virtual engine, and GStreamer too when the demo has an `--engine` flag (its usage lists
 * it) and GStreamer is installed (`gst-inspect-1.0` on PATH).
 */
function defaultEngines(): string[] {
  const help = Bun.spawnSync([process.execPath, DEMO_MAIN, "--help"]).stdout.toString();
  const gstreamer = help.includes("--engine") && Bun.which("gst-inspect-1.0") !== null;
  return gstreamer ? ["virtual", "gstreamer"] : ["virtual"];
}

/** One thing to play: a file, or a DASH set's segments concatenated. */
interface Entry {
  /** Name shown, relative to DIR. */
  readonly name: string;
  /** The files whose concatenation is played (one for a plain file). */
  readonly parts: readonly string[];
}

async function listFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await listFiles(path)));
    else if (/\.(mp4|m4s)$/.test(entry.name)) found.push(path);
  }
  return found.toSorted();
}

function entriesOf(dir: string, files: readonly string[]): Entry[] {
  const entries: Entry[] = [];
  const used = new Set<string>();
  for (const file of files) {
    const init = /^(.*)-init\.mp4$/.exec(file);
    if (init === null) continue;
    const prefix = init[1] as string;
    const segments = files
      .filter((f) => f.startsWith(`${prefix}-`) && f.endsWith(".m4s"))
      .toSorted((a, b) => Number(/(\d+)\.m4s$/.exec(a)?.[1]) - Number(/(\d+)\.m4s$/.exec(b)?.[1]));
    if (segments.length === 0) continue;
    for (const f of [file, ...segments]) used.add(f);
    entries.push({
      name: `${relative(dir, prefix)}-init.mp4 + ${segments.length} segments`,
      parts: [file, ...segments],
    });
  }
  for (const file of files) {
    if (!used.has(file) && file.endsWith(".mp4"))
      entries.push({ name: relative(dir, file), parts: [file] });
  }
  return entries.toSorted((a, b) => a.name.localeCompare(b.name));
}

/** What PROVENANCE.md publishes about an encrypted file: its key and clear twin. */
interface Published {
  readonly key?: string;
  readonly clear?: string;
}

async function readProvenance(dir: string): Promise<Map<string, Published>> {
  const published = new Map<string, Published>();
  const file = Bun.file(join(dir, "PROVENANCE.md"));
  if (!(await file.exists())) return published;
  let previousKey: string | undefined;
  for (const line of (await file.text()).split("\n")) {
    if (!line.startsWith("| `encrypted/")) continue;
    const cells = line.split("|").map((c) => c.trim());
    const name = /`(encrypted\/[^`]+)`/.exec(cells[1] ?? "")?.[1];
    if (name === undefined) continue;
    const keyCell = cells.find((c) => /`[0-9a-f]{32}` : `[0-9a-f]{32}`/.test(c));
    const key = keyCell
      ? keyCell.replace(/[` ]/g, "")
      : cells.some((c) => c.startsWith("same as above"))
        ? previousKey
        : undefined;
    previousKey = key;
    const clearCell = cells.at(-2) ?? "";
    const clear = /`([^`]+\.mp4)`/.exec(clearCell)?.[1];
    published.set(name.replace(/(-init)?\.mp4$/, ""), {
      ...(key ? { key } : {}),
      ...(clear ? { clear: join(dir, clear) } : {}),
    });
  }
  return published;
}

function publishedFor(
  entry: Entry,
  dir: string,
  published: Map<string, Published>,
): Published | undefined {
  const first = relative(dir, entry.parts[0] as string).replace(/(-init)?\.mp4$/, "");
  return published.get(first);
}

async function isEncrypted(path: string): Promise<boolean> {
  try {
    return readMp4(await Bun.file(path).bytes(), path).tracks.some((t) => t.scheme !== undefined);
  } catch {
    return false; // the demo reports why it cannot read the file
  }
}

/** Cut and corrupted versions of each file the demuxer reads in the fuzz phase (each kind). */
const FUZZ_RUNS = 150;

/** The demuxer on `bytes` cut and damaged at random: the problems found, in words. */
function fuzzDemuxer(name: string, bytes: Uint8Array): string[] {
  const problems: string[] = [];
  for (let run = 0; run < FUZZ_RUNS * 2; run++) {
    let input: Uint8Array;
    if (run % 2 === 0) {
      input = bytes.subarray(0, Math.floor(Math.random() * bytes.byteLength));
    } else {
      input = bytes.slice();
      // Mostly in the first 8 KiB, where the boxes that place the samples are.
      const span = run % 3 === 0 ? input.byteLength : Math.min(input.byteLength, 8192);
      for (let k = 0; k < 1 + (run % 7); k++) {
        input[Math.floor(Math.random() * span)] = Math.floor(Math.random() * 256);
      }
    }
    const started = performance.now();
    try {
      readMp4(input, name);
    } catch (error) {
      // RialtoError, by name: scripts/ is no workspace, so @rialto/protocol is not resolvable here.
      const code = (error as { code?: unknown }).code;
      if (
        !(error instanceof Error) ||
        error.name !== "RialtoError" ||
        code !== "INVALID_ARGUMENT"
      ) {
        problems.push(
          `${name}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
        );
      }
    }
    const ms = performance.now() - started;
    if (ms > 1000) problems.push(`${name}: a damaged copy took ${ms.toFixed(0)} ms`);
  }
  return problems;
}

interface Outcome {
  readonly verdict: "PASS" | "FAIL";
  readonly detail: string;
  /** The flags that play the playable tracks the demo did not choose (`--audio-track 2`). */
  readonly otherTracks: readonly (readonly string[])[];
}

async function play(path: string, extra: readonly string[]): Promise<Outcome> {
  const started = performance.now();
  const child = Bun.spawn([process.execPath, DEMO_MAIN, "--fast", "--file", path, ...extra], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), 180_000);
  const [code, stdout, stderr] = await Promise.all([
    child.exited,
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ]).finally(() => clearTimeout(timer));
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const rendered = [...stdout.matchAll(/^(video|audio) +(\d+\/\d+) samples rendered/gm)].map(
    (m) => `${m[1]} ${m[2]}`,
  );
  const skipped = [...stdout.matchAll(/warning: (track \d+ skipped: .*)$/gm)].map((m) => m[1]);
  const otherTracks = [
    ...stdout.matchAll(/not chosen: (--(?:audio|video)-track \d+) plays it$/gm),
  ].map((m) => (m[1] as string).split(" "));
  const last = stdout.trimEnd().split("\n").at(-1) ?? "";
  // "demo OK: every sample ..., and each source's checksum <reference>; <how the demuxer was checked>"
  const how = /checksum (.*)$/.exec(last)?.[1]?.split("; ") ?? [];
  if (code === 0) {
    const notes = [rendered.join(", "), ...how, ...skipped].filter(Boolean).join("; ");
    return { verdict: "PASS", detail: `${notes} (${seconds} s)`, otherTracks };
  }
  const reason = stderr.trim().split("\n").at(-1) || last || `exit code ${code}`;
  return { verdict: "FAIL", detail: `${reason} (${seconds} s)`, otherTracks };
}

async function main(args: readonly string[]): Promise<number> {
  const options = parseOptions(args);
  const found = await stat(options.dir).catch(() => undefined);
  if (found?.isDirectory() !== true) {
    console.error(
      `conformance: no media directory "${options.dir}" (give one: bun run conformance DIR)`,
    );
    return 1;
  }
  const entries = entriesOf(options.dir, await listFiles(options.dir));
  const published = await readProvenance(options.dir);
  const work = await mkdtemp(join(tmpdir(), "rialto-conformance-"));
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  const fuzzProblems: string[] = [];
  try {
    console.log(
      `conformance: ${entries.length} files in ${options.dir}, engine ${options.engines.join(", ")}`,
    );
    for (const entry of entries) {
      let path = entry.parts[0] as string;
      if (entry.parts.length > 1) {
        path = join(
          work,
          `${basename(dirname(path))}-${basename(path).replace(/-init\.mp4$/, "")}.mp4`,
        );
        await Bun.write(
          path,
          new Blob(await Promise.all(entry.parts.map((p) => Bun.file(p).arrayBuffer()))),
        );
      }
      fuzzProblems.push(...fuzzDemuxer(entry.name, await Bun.file(path).bytes()));
      const info = publishedFor(entry, options.dir, published);
      const extra: string[] = [];
      if (await isEncrypted(path)) {
        if (info?.key === undefined) {
          skipped++;
          console.log(`SKIP  ${entry.name}: encrypted, and no key is published for it`);
          continue;
        }
        extra.push("--key", info.key);
        if (info.clear !== undefined) extra.push("--clear", info.clear);
      }
      for (const engine of options.engines) {
        const engineArgs = engine === "virtual" ? [] : ["--engine", engine];
        const label = options.engines.length > 1 ? ` [${engine}]` : "";
        const base = [...extra, ...engineArgs, ...options.demoArgs];
        const first = await play(path, base);
        // Then each playable track the demo did not choose (a second audio track, ...).
        const runs: [string, Outcome][] = [["", first]];
        for (const flag of first.otherTracks) {
          runs.push([` ${flag.join(" ")}`, await play(path, [...base, ...flag])]);
        }
        for (const [track, outcome] of runs) {
          if (outcome.verdict === "PASS") passed++;
          else failed++;
          console.log(`${outcome.verdict}  ${entry.name}${track}${label}: ${outcome.detail}`);
        }
      }
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  const versions = entries.length * FUZZ_RUNS * 2;
  console.log(
    fuzzProblems.length === 0
      ? `FUZZ  the demuxer on ${versions} cut or damaged copies of the ${entries.length} files: typed errors only`
      : `FUZZ  the demuxer on ${versions} cut or damaged copies: ${fuzzProblems.length} problems, the first: ${fuzzProblems[0]}`,
  );
  const skippedNote = skipped > 0 ? ` (${skipped} skipped: no key published)` : "";
  console.log(`${passed} passed, ${failed} failed${skippedNote}`);
  return failed === 0 && fuzzProblems.length === 0 ? 0 : 1;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  console.error(`conformance: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 2;
}
