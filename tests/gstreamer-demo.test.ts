import { expect, setDefaultTimeout } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import decodedGolden from "../apps/demo-app/media/decoded.json";
import { demoRunsPerTest } from "./support/demo-process.ts";
import { describeWithGstreamer } from "./support/gstreamer.ts";

// Real processes and real decoders on a shared 2-core machine.
setDefaultTimeout(60_000);

const runDemo = demoRunsPerTest();

/** The rendered and golden SHA-256 the demo printed for one track. */
function printedHashes(stdout: string, type: string): { rendered?: string; golden?: string } {
  const block = stdout.slice(stdout.indexOf(`\n${type} `));
  return {
    rendered: /rendered sha256 ([0-9a-f]{64})/.exec(block)?.[1],
    golden: /golden {3}sha256 ([0-9a-f]{64}) {2}equal/.exec(block)?.[1],
  };
}

describeWithGstreamer("the demo on the GStreamer engine (run as a child process)", (it) => {
  it("decodes the clip through the whole system and each track's hash equals ffmpeg's golden value; --snapshot writes a PNG", async () => {
    const dir = mkdtempSync("/tmp/rialto-demo-snapshot-");
    try {
      const snapshot = join(dir, "sheet.png");
      const { code, stdout, stderr } = await runDemo(
        "--engine",
        "gstreamer",
        "--fast",
        "--snapshot",
        snapshot,
      );

      expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
      expect(stdout).toContain("GStreamer decoding in the session server");
      for (const type of ["video", "audio"] as const) {
        const { frames, sha256 } = decodedGolden[type];
        // "frames" where the decoder also outputs the AAC priming frame that the virtual
        // engine's renderer leaves out (so it differs from the presented samples).
        expect(stdout).toMatch(
          new RegExp(`${type.padEnd(6)} ${frames}/${frames} (samples|frames) rendered, 0 dropped`),
        );
        expect(printedHashes(stdout, type)).toEqual({ rendered: sha256, golden: sha256 });
      }
      expect(stdout.trimEnd().split("\n").at(-1)).toStartWith(
        "demo OK: every frame decoded and rendered, and each track's decoded hash equals the golden value ffmpeg made",
      );
      // A real PNG: signature, then an IHDR of 4 tiles of 240 px across.
      const png = readFileSync(snapshot);
      expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      expect(png.toString("latin1", 12, 16)).toBe("IHDR");
      expect(png.readUInt32BE(16)).toBe(960);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("decrypts the encrypted clip straight into GStreamer's buffers: the decoded hashes are the clear clip's", async () => {
    const { code, stdout, stderr } = await runDemo(
      "--engine",
      "gstreamer",
      "--encrypted",
      "--fast",
    );

    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    for (const type of ["video", "audio"] as const) {
      const { sha256 } = decodedGolden[type];
      expect(printedHashes(stdout, type)).toEqual({ rendered: sha256, golden: sha256 });
    }
    expect(stdout.trimEnd().split("\n").at(-1)).toStartWith("demo OK");
  });
});
