// Issue 13: the demo plays files other projects write (several tracks, Opus / AC-3 / E-AC-3,
// fragments with several truns, CENC cenc and cbcs with clear lead and foreign pssh) through
// the whole system, with the keys a user gives. The clips are the repo's own
// (apps/demo-app/media/test-clips, made by make-test-clips.sh with ffmpeg), not the shared
// real-world files (`bun run conformance` plays those).
import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { fileURLToPath } from "node:url";
import { demoRunsPerTest } from "./support/demo-process.ts";

// Real processes on a shared 2-core machine: bun's 5 s default is too tight under load.
setDefaultTimeout(60_000);

const CLIPS = fileURLToPath(new URL("../apps/demo-app/media/test-clips/", import.meta.url));
const KEYS = `${CLIPS}keys.json`;
const KEY = "7e571d017e571d017e571d017e571d01:00112233445566778899aabbccddeeff";

const runDemoAsIs = demoRunsPerTest();

/** Runs the demo as a child process with `--fast`. */
const runDemo = (...args: string[]) => runDemoAsIs("--fast", ...args);

/** The rendered and reference checksums printed for a source type, and the reference's label. */
function checksums(stdout: string, type: string) {
  const block = stdout.slice(stdout.indexOf(`\n${type} `));
  const rendered = /rendered sha256 ([0-9a-f]{64})/.exec(block)?.[1];
  const reference = /\n\s+(\S+)\s+sha256 ([0-9a-f]{64}) {2}(equal|DIFFERENT)/.exec(block);
  return { rendered, label: reference?.[1], reference: reference?.[2], verdict: reference?.[3] };
}

const lastLine = (stdout: string) => stdout.trimEnd().split("\n").at(-1) ?? "";

describe("issue 13: the demo on files other projects write", () => {
  it("plays the chosen audio track (--audio-track 3: E-AC-3) and names the tracks left out", async () => {
    const { code, stdout, stderr } = await runDemo(
      "--file",
      `${CLIPS}opus-ac3-eac3-aac.mp4`,
      "--audio-track",
      "3",
    );

    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(stdout).toContain("track 3: ec-3 (audio/x-eac3) 48000 Hz 6 ch, 16 samples");
    expect(stdout).toContain("track 1 (audio, opus) not chosen: --audio-track 1 plays it");
    expect(stdout).toContain("track 2 (audio, ac-3) not chosen: --audio-track 2 plays it");
    expect(stdout).toContain("audio  16/16 samples rendered, 0 dropped");
    const { rendered, reference, verdict } = checksums(stdout, "audio");
    expect({ equal: rendered === reference, verdict }).toEqual({ equal: true, verdict: "equal" });
    expect(lastLine(stdout)).toStartWith("demo OK");
  });

  it("checks a --file against ffprobe when it is on PATH and says so", async () => {
    const { code, stdout } = await runDemo("--file", `${CLIPS}fmp4-multitrun.mp4`);

    expect(code).toBe(0);
    if (Bun.which("ffprobe") === null) {
      expect(lastLine(stdout)).toEndWith("self-check only: ffprobe is not on PATH");
    } else {
      expect(stdout).toContain("demuxer   video  15/15 samples equal to ffprobe's");
      expect(stdout).toContain("demuxer   audio  48/48 samples equal to ffprobe's");
      expect(lastLine(stdout)).toEndWith("checked against ffprobe");
    }
  });

  it("refuses a track id that is not a playable track of that kind, in one line", async () => {
    const { code, stdout, stderr } = await runDemo(
      "--file",
      `${CLIPS}opus-ac3-eac3-aac.mp4`,
      "--video-track",
      "2",
    );

    expect({ code, stdout }).toEqual({ code: 1, stdout: "" });
    expect(stderr.trim()).toBe(
      "demo: --video-track 2: the file has no playable video track with that id (its video tracks: none)",
    );
  });

  it("plays fragmented cenc with a clear lead and a common pssh (--keys), equal to the clear twin", async () => {
    const { code, stdout, stderr } = await runDemo(
      "--file",
      `${CLIPS}fmp4-cenc-clear-lead.mp4`,
      "--keys",
      KEYS,
      "--clear",
      `${CLIPS}fmp4-multitrun.mp4`,
    );

    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(stdout).toContain(
      "cipher    cenc, key id 7e571d017e571d017e571d017e571d01; license from cenc init data",
    );
    expect(stdout).toMatch(/generateRequest\(\d+, "cenc", pssh of 52 bytes\)/);
    expect(stdout).toMatch(/keyStatusesChanged\(\d+\) 7e571d017e571d017e571d017e571d01 usable/);
    for (const type of ["video", "audio"]) {
      expect(checksums(stdout, type)).toMatchObject({ label: "clear", verdict: "equal" });
    }
    expect(lastLine(stdout)).toStartWith("demo OK: every sample decrypted and rendered");
  });

  it("plays fragmented cbcs 2:8 whose pssh is PlayReady only: the license comes from keyids init data", async () => {
    const { code, stdout } = await runDemo(
      "--file",
      `${CLIPS}fmp4-cbcs-2-8.mp4`,
      "--key",
      KEY,
      "--clear",
      `${CLIPS}fmp4-multitrun.mp4`,
    );

    expect(code).toBe(0);
    expect(stdout).toContain('generateRequest(1, "keyids", {"kids":["flcdAX5XHQF-Vx0Bflcd');
    for (const type of ["video", "audio"]) {
      expect(checksums(stdout, type)).toMatchObject({ label: "clear", verdict: "equal" });
    }
    expect(lastLine(stdout)).toStartWith("demo OK");
  });

  it("plays progressive cbcs 1:9 and 2:8 equal to ffmpeg's own decryption (or its own, said so)", async () => {
    for (const clip of ["cbcs-1-9", "cbcs-2-8"]) {
      const { code, stdout } = await runDemo("--file", `${CLIPS}${clip}.mp4`, "--key", KEY);

      expect(code).toBe(0);
      const label = Bun.which("ffmpeg") === null ? "self-check" : "ffmpeg";
      for (const type of ["video", "audio"]) {
        expect(checksums(stdout, type)).toMatchObject({ label, verdict: "equal" });
      }
      expect(lastLine(stdout)).toStartWith("demo OK: every sample decrypted and rendered");
    }
  });

  it("refuses an encrypted file without its key in one line naming the key id", async () => {
    const { code, stdout, stderr } = await runDemo("--file", `${CLIPS}cbcs-2-8.mp4`);

    expect({ code, stdout }).toEqual({ code: 1, stdout: "" });
    expect(stderr.trim()).toBe(
      `demo: "${CLIPS}cbcs-2-8.mp4" is encrypted (cbcs, key id 7e571d017e571d017e571d017e571d01): give its keys with --key KID:KEY or --keys FILE`,
    );
  });

  it("fails the playback, not the license, with a wrong key: the checksums differ and the exit code is 1", async () => {
    const wrong = "7e571d017e571d017e571d017e571d01:ffeeddccbbaa99887766554433221100";
    const { code, stdout } = await runDemo(
      "--file",
      `${CLIPS}fmp4-cenc-clear-lead.mp4`,
      "--key",
      wrong,
      "--clear",
      `${CLIPS}fmp4-multitrun.mp4`,
    );

    expect(code).toBe(1);
    expect(checksums(stdout, "video").verdict).toBe("DIFFERENT");
    expect(lastLine(stdout)).toBe(
      "demo FAILED: not every sample was rendered, or a checksum differs",
    );
  });
});
