import { describe, expect, it } from "bun:test";
import { join } from "node:path";
import type { RialtoError } from "@rialto/protocol";
import { splitDashSegments } from "./dash-segments.ts";
import { readMp4 } from "./demux-mp4.ts";
import { compareTrack, ffprobeAvailable, readReferencePackets } from "./ffprobe-reference.ts";
import { goldenStream, loadGolden } from "./golden-values.ts";
import { TEST_CLIPS_DIR, testClipBytes } from "./test-support/test-clips.ts";

describe("the ffprobe reference", () => {
  it("splits DASH segments appended to their init segment into init + segment files", async () => {
    const bytes = await testClipBytes("dash-init-segments");
    const parts = splitDashSegments(bytes) ?? [];
    expect(parts.length).toBeGreaterThan(1);
    // Each part is a file of its own: the demuxer reads it, and together they hold every sample.
    const counts = parts.map((part) => readMp4(part, "part").tracks[0]?.samples.length ?? 0);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(
      readMp4(bytes, "all").tracks[0]?.samples.length ?? -1,
    );
    expect(splitDashSegments(await testClipBytes("fmp4-multitrun"))).toBeUndefined();
  });

  it("reads the packets of segmented DASH as the golden values have them, or says ffprobe is missing", async () => {
    const path = join(TEST_CLIPS_DIR, "dash-init-segments.mp4");
    if (!ffprobeAvailable()) {
      const error = await readReferencePackets(path).catch((e: unknown) => e);
      expect((error as RialtoError).code).toBe("NOT_FOUND");
      return;
    }
    const [stream] = await readReferencePackets(path);
    const golden = await loadGolden(join(TEST_CLIPS_DIR, "dash-init-segments.golden.json"));
    const track = readMp4(await testClipBytes("dash-init-segments"), "dash").tracks[0];
    if (stream === undefined || track === undefined || golden.tracks[0] === undefined) {
      throw new Error("no track");
    }
    expect(stream.packets).toEqual(goldenStream(golden.tracks[0]).packets);
    expect(compareTrack(track, stream).firstDifference).toBeUndefined();
  });

  it("names a sample that differs from ffprobe's, and counts it", async () => {
    const golden = await loadGolden(join(TEST_CLIPS_DIR, "hevc-bframes.golden.json"));
    const bytes = (await testClipBytes("hevc-bframes")).slice();
    const movie = readMp4(bytes, "hevc");
    const track = movie.tracks[0];
    const sample = track?.samples[3];
    if (track === undefined || sample === undefined || golden.tracks[0] === undefined) {
      throw new Error("no sample");
    }
    const last = sample.data.byteLength - 1;
    sample.data[last] = (sample.data[last] ?? 0) ^ 0xff;
    const comparison = compareTrack(track, goldenStream(golden.tracks[0]));
    expect(comparison.bytesDiffer).toBe(1);
    expect(comparison.firstDifference).toStartWith("sample 3:");
  });
});
