import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { fileURLToPath } from "node:url";
import keyFile from "../apps/demo-app/media/encrypted/key.json";
import { DEMO_CLIP_PATH, DEMO_CLIP_TRACKS } from "../apps/demo-app/src/mp4/index.ts";
import { demoRunsPerTest } from "./support/demo-process.ts";

// Real processes on a shared 2-core machine: bun's 5 s default is too tight under load.
setDefaultTimeout(30_000);

const runDemo = demoRunsPerTest();

/**
 * The rendered and reference SHA-256 the demo printed for one source type; the reference line
 * is labelled `file` (clear playback) or `clear` (the encrypted clip).
 */
function printedChecksums(
  stdout: string,
  type: string,
  reference = "file",
): { rendered?: string; file?: string } {
  const block = stdout.slice(stdout.indexOf(`\n${type} `));
  return {
    rendered: /rendered sha256 ([0-9a-f]{64})/.exec(block)?.[1],
    file: new RegExp(`${reference.padEnd(8)} sha256 ([0-9a-f]{64})`).exec(block)?.[1],
  };
}

/** Every sample of every track rendered, and both printed checksums equal to ffmpeg's. */
function expectEveryTrackRendered(stdout: string, reference = "file"): void {
  for (const track of DEMO_CLIP_TRACKS) {
    expect(stdout).toContain(
      `${track.type.padEnd(6)} ${track.presentedSamples}/${track.presentedSamples} samples rendered, 0 dropped`,
    );
    expect(printedChecksums(stdout, track.type, reference)).toEqual({
      rendered: track.presentedSha256,
      file: track.presentedSha256,
    });
  }
}

/** The printed lifecycle timeline as `[actor, what]` pairs, in order. */
function timelineOf(stdout: string): [actor: string, what: string][] {
  const start = stdout.indexOf("\nlifecycle timeline\n");
  expect(start, "a printed lifecycle timeline").toBeGreaterThanOrEqual(0);
  const lines = stdout.slice(start).split("\n").slice(2);
  const entries: [string, string][] = [];
  for (const line of lines) {
    // `   +12.3 ms  <actor, padded>  <what>`: the actor may hold one space, never two.
    const match = /^ *\+[\d.]+ ms {2}(\S+(?: \S+)*) {2,}(.*)$/.exec(line);
    if (match === null) break;
    entries.push([match[1] as string, match[2] as string]);
  }
  return entries;
}

/**
 * Expects each `[actor, what]` step in the timeline (the first entry of that actor starting
 * with `what`), in the order given.
 */
function expectInOrder(timeline: [string, string][], steps: [actor: string, what: string][]) {
  const indexes = steps.map(([actor, what]) => {
    const index = timeline.findIndex(([a, w]) => a === actor && w.startsWith(what));
    expect(index, `${actor}: ${what} in the timeline`).toBeGreaterThanOrEqual(0);
    return index;
  });
  expect(indexes).toEqual(indexes.toSorted((x, y) => x - y));
}

describe("the demo (run as a child process)", () => {
  it("plays the clip with --fast, prints equal checksums per source and exits 0", async () => {
    const { code, stdout, stderr } = await runDemo("--fast");

    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(stdout).toContain("played to EndOfStream");
    expectEveryTrackRendered(stdout);
    expect(stdout).toContain("stateChanged(demo, Active)");
    expect(stdout).toContain("stateChanged(demo, NotRunning)");
    expect(stdout.trimEnd().split("\n").at(-1)).toStartWith("demo OK");
  });

  it("interleaves the in-process monitor's events, in lifecycle order, with the states in the timeline", async () => {
    const { code, stdout } = await runDemo("--fast");

    expect(code).toBe(0);
    const timeline = timelineOf(stdout);
    // Step 1: the monitor saw the whole lifecycle of the app, every SPEC 4 event in order.
    expect(timeline.filter(([actor]) => actor === "monitor").map(([, what]) => what)).toEqual([
      "client_state_end(count 0)",
      "start_request(demo, Active)",
      "started(demo)",
      "ready(demo, Uninitialised)",
      "state_changed(demo, Uninitialised)",
      "state_changed(demo, Active)",
      "state_request(demo, Inactive)",
      "state_changed(demo, Inactive)",
      "stop_request(demo, NotRunning)",
      "stopped_by_server(demo)",
      "state_changed(demo, NotRunning)",
      "removed(demo)",
    ]);
    // Step 2: each event sits between the call that caused it and what followed.
    expectInOrder(timeline, [
      ["demo", "initiateApplication(demo, Active)"],
      ["monitor", "start_request(demo, Active)"],
      ["monitor", "state_changed(demo, Active)"],
      ["manager", "stateChanged(demo, Active)"],
      ["pipeline demo", "playbackState EndOfStream"],
      ["demo", "changeSessionServerState(demo, Inactive)"],
      ["monitor", "state_request(demo, Inactive)"],
      ["manager", "stateChanged(demo, Inactive)"],
      ["demo", "changeSessionServerState(demo, NotRunning)"],
      ["monitor", "stop_request(demo, NotRunning)"],
      ["monitor", "stopped_by_server(demo)"],
      ["manager", "stateChanged(demo, NotRunning)"],
      ["monitor", "removed(demo)"],
    ]);
  });

  it("plays the encrypted clip with --encrypted --fast: license flow, decryption, checksums equal the clear clip's", async () => {
    const { code, stdout, stderr } = await runDemo("--encrypted", "--fast");

    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    // Step 1: the W3C ClearKey request for the clip's key id, and the key usable.
    const request = /^ {2}request {3}(\{.*\})$/m.exec(stdout)?.[1];
    expect(JSON.parse(request ?? "null")).toEqual({
      ...keyFile.keyIdsInitData,
      type: "temporary",
    });
    expect(stdout).toContain(`  statuses  ${keyFile.keyId} usable`);
    // Step 2: the license steps in the timeline, before the playback.
    const timeline = timelineOf(stdout);
    expectInOrder(timeline, [
      ["keys demo", 'createMediaKeys("org.w3.clearkey")'],
      ["keys demo", "createKeySession()"],
      ["keys demo", 'generateRequest(1, "cenc"'],
      ["keys demo", "licenseRequest(1) {"],
      ["license server", "answers with a JWK set of 1 key"],
      ["keys demo", "updateSession(1, JWK set)"],
      ["keys demo", `keyStatusesChanged(1) ${keyFile.keyId} usable`],
      ["pipeline demo", "play()"],
      ["pipeline demo", "playbackState EndOfStream"],
    ]);
    // Step 3: every sample decrypted and rendered: the checksums are the clear clip's.
    expectEveryTrackRendered(stdout, "clear");
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

  it("refuses --encrypted with --file in one line: it plays the bundled encrypted clip only", async () => {
    const { code, stdout, stderr } = await runDemo("--encrypted", "--file", "movie.mp4");

    expect({ code, stdout }).toEqual({ code: 1, stdout: "" });
    expect(stderr.trimEnd().split("\n")).toEqual([
      'demo: --encrypted plays the bundled encrypted clip (media/encrypted/clip-cenc.mp4) and cannot play --file "movie.mp4"',
    ]);
  });
});
