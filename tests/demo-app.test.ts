import { afterEach, describe, expect, it, setDefaultTimeout } from "bun:test";
import { fileURLToPath } from "node:url";
import type { Subprocess } from "bun";
import { DEMO_CLIP_PATH, DEMO_CLIP_TRACKS } from "../apps/demo-app/src/mp4/index.ts";
import { WAIT_MS } from "./support/rialto-app.ts";

// Real processes on a shared 2-core machine: bun's 5 s default is too tight under load.
setDefaultTimeout(30_000);

const DEMO_MAIN = fileURLToPath(new URL("../apps/demo-app/src/main.ts", import.meta.url));

const children: Subprocess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await child.exited;
  }
});

/** Runs the demo as a child process; resolves with its exit code and output. */
async function runDemo(
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = Bun.spawn([process.execPath, DEMO_MAIN, ...args], {
    stdout: "pipe",
    stderr: "pipe",
  });
  children.push(child);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`demo ${args.join(" ")} ran over ${WAIT_MS * 2} ms`)),
      WAIT_MS * 2,
    );
  });
  const [code, stdout, stderr] = await Promise.race([
    Promise.all([
      child.exited,
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
    ]),
    deadline,
  ]).finally(() => clearTimeout(timer));
  return { code, stdout, stderr };
}

/** The rendered and file SHA-256 the demo printed for one source type. */
function printedChecksums(stdout: string, type: string): { rendered?: string; file?: string } {
  const block = stdout.slice(stdout.indexOf(`\n${type} `));
  return {
    rendered: /rendered sha256 ([0-9a-f]{64})/.exec(block)?.[1],
    file: /file {5}sha256 ([0-9a-f]{64})/.exec(block)?.[1],
  };
}

describe("the demo (run as a child process)", () => {
  it("plays the clip with --fast, prints equal checksums per source and exits 0", async () => {
    const { code, stdout, stderr } = await runDemo("--fast");

    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(stdout).toContain("played to EndOfStream");
    for (const track of DEMO_CLIP_TRACKS) {
      // Both checksums printed, equal to each other and to ffmpeg's for the clip.
      expect(stdout).toContain(
        `${track.type.padEnd(6)} ${track.samples}/${track.samples} samples rendered, 0 dropped`,
      );
      expect(printedChecksums(stdout, track.type)).toEqual({
        rendered: track.sha256,
        file: track.sha256,
      });
    }
    expect(stdout).toContain("stateChanged(demo, Active)");
    expect(stdout).toContain("stateChanged(demo, NotRunning)");
    expect(stdout.trimEnd().split("\n").at(-1)).toStartWith("demo OK");
  });

  it("hands the decoders from one app to another with --switch --fast", async () => {
    const { code, stdout, stderr } = await runDemo("--switch", "--fast");

    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    const at = (text: string) => {
      const index = stdout.indexOf(text);
      expect(index, `"${text}" in the output`).toBeGreaterThanOrEqual(0);
      return index;
    };
    // The timeline: app 1 made Inactive, its pipeline stopped and the manager told, then app 2.
    const switched = at("changeSessionServerState(demo-1, Inactive)");
    const activated = at("changeSessionServerState(demo-2, Active)");
    for (const between of [
      "pipeline demo-1  playbackState Stopped",
      "stateChanged(demo-1, Inactive)",
    ]) {
      expect(at(between)).toBeGreaterThan(switched);
      expect(at(between)).toBeLessThan(activated);
    }
    expect(at("pipeline demo-2  playbackState EndOfStream")).toBeGreaterThan(activated);
    expect(stdout.trimEnd().split("\n").at(-1)).toStartWith("demo OK");
  });

  it("refuses a file it cannot demux with one line and exit code 1", async () => {
    const { code, stdout, stderr } = await runDemo("--file", fileURLToPath(import.meta.url));

    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr.trimEnd().split("\n")).toEqual([
      'demo: demuxMp4: "demo-app.test.ts" has no movie box (moov): not an MP4',
    ]);
    expect(DEMO_CLIP_PATH).toEndWith("clip.mp4");
  });
});
