import { describe, expect, it } from "bun:test";
import { RialtoError } from "@rialto/protocol";
import { DEMO_CLIP_GOLDEN, DEMO_CLIP_PATH, DEMO_CLIP_TRACKS, loadDemoClip } from "./demo-clip.ts";
import { demuxMp4 } from "./demux-mp4.ts";
import type { DemuxedTrack } from "./demuxed-movie.ts";
import { compareWithGolden } from "./golden-values.ts";
import { presentedSamples, trackChecksum } from "./track-checksum.ts";

const clip = await loadDemoClip();

function track(type: "video" | "audio"): DemuxedTrack {
  const found = clip.tracks.find((t) => t.type === type);
  if (found === undefined) throw new Error(`the clip has no ${type} track`);
  return found;
}

async function demuxError(bytes: Uint8Array, name: string): Promise<RialtoError> {
  const error = await demuxMp4(bytes, name).catch((e: unknown) => e);
  if (!(error instanceof RialtoError)) throw new Error(`expected a RialtoError, got ${error}`);
  return error;
}

describe("demuxMp4 on the demo clip", () => {
  it("finds ffmpeg's tracks with ffmpeg's sample counts", () => {
    const found: { id: number; type: string; samples: number }[] = clip.tracks.map(
      ({ id, type, samples }) => ({ id, type, samples: samples.length }),
    );
    expect(found).toEqual(DEMO_CLIP_TRACKS.map(({ id, type, samples }) => ({ id, type, samples })));
  });

  it("reproduces ffmpeg's per-track SHA-256 with trackChecksum", () => {
    for (const expected of DEMO_CLIP_TRACKS) {
      const demuxed = clip.tracks.find((t) => t.id === expected.id);
      expect(demuxed && trackChecksum(demuxed.samples)).toBe(expected.sha256);
    }
  });

  it("equals ffprobe's golden values packet by packet: bytes, pts, dts, keyframe and discard flags", () => {
    const comparisons = compareWithGolden(clip, DEMO_CLIP_GOLDEN);
    expect(comparisons.map((c) => [c.trackId, c.samples, c.firstDifference])).toEqual([
      [1, 125, undefined],
      [2, 236, undefined],
    ]);
  });

  it("describes the video as 320x240 H.264 with its avcC record", () => {
    const video = track("video");
    expect(video.type === "video" && [video.width, video.height]).toEqual([320, 240]);
    expect(video.mimeType).toBe("video/h264");
    expect(video.codec).toStartWith("avc1.42");
    // avcC: configurationVersion 1, then AVCProfileIndication 66 (baseline).
    expect([...video.codecData.subarray(0, 2)]).toEqual([1, 66]);
  });

  it("describes the audio as stereo 48 kHz AAC-LC with its AudioSpecificConfig", () => {
    const audio = track("audio");
    expect(audio.type === "audio" && [audio.sampleRate, audio.channels]).toEqual([48_000, 2]);
    expect(audio.mimeType).toBe("audio/mp4");
    // 5 bits object type (2: AAC LC), 4 bits sampling frequency index (3: 48 kHz), 4 bits channels.
    const [high = 0, low = 0] = audio.codecData;
    expect(high >> 3).toBe(2);
    expect(((high & 0b111) << 1) | (low >> 7)).toBe(3);
    expect((low >> 3) & 0b1111).toBe(2);
  });

  it("applies the edit list: the AAC priming frame lies before 0 and is flagged discard", () => {
    expect(clip.durationNs).toBe(5_000_000_000);
    const video = track("video");
    expect(video.samples.every((s) => s.durationNs === 40_000_000)).toBe(true);
    expect(video.samples.at(-1)?.timestampNs).toBe(4_960_000_000);
    const audio = track("audio");
    expect(audio.samples[0]).toMatchObject({ timestampNs: -21_333_333, discard: true });
    expect(audio.samples[1]).toMatchObject({ timestampNs: 0, discard: false });
    expect(audio.samples[4]?.timestampNs).toBe(64_000_000);
    expect(presentedSamples(audio.samples).length).toBe(235);
  });

  it("gives strictly increasing timestamps whose presented samples start at 0 on every track", () => {
    for (const { samples } of clip.tracks) {
      expect(presentedSamples(samples)[0]?.timestampNs).toBe(0);
      const increasing = samples.every(
        (s, i) => i === 0 || s.timestampNs > (samples[i - 1]?.timestampNs ?? 0),
      );
      expect(increasing).toBe(true);
    }
  });

  it("marks a video keyframe every 25 samples and no other", () => {
    const keyframes = track("video").samples.flatMap((s, i) => (s.isSync ? [i] : []));
    expect(keyframes).toEqual([0, 25, 50, 75, 100]);
  });

  it("keeps one sample description per track: no sample carries a codec-data change", () => {
    for (const { samples } of clip.tracks) {
      expect(samples.every((s) => s.data.byteLength > 0 && s.codecData === undefined)).toBe(true);
    }
  });

  it("returns sample bytes as views of the input, not copies", async () => {
    const bytes = await Bun.file(DEMO_CLIP_PATH).bytes();
    const movie = await demuxMp4(bytes, "clip.mp4");
    const first = movie.tracks[0]?.samples[0];
    expect(first?.data.buffer).toBe(bytes.buffer);
  });
});

describe("demuxMp4 on what is not a playable MP4", () => {
  it("refuses garbage bytes with INVALID_ARGUMENT naming the file", async () => {
    const garbage = Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) & 0xff);
    const error = await demuxError(garbage, "garbage.bin");
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.message).toContain('"garbage.bin"');
  });

  it("refuses an empty file", async () => {
    const error = await demuxError(new Uint8Array(0), "empty.mp4");
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.message).toContain('demuxMp4: "empty.mp4" has no movie box');
  });

  it("refuses a clip cut short whose samples point past its end", async () => {
    const whole = await Bun.file(DEMO_CLIP_PATH).bytes();
    const error = await demuxError(whole.subarray(0, 100_000), "cut.mp4");
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.message).toMatch(
      /"cut\.mp4" track \d+ sample \d+: bytes .* outside the 100000-byte file/,
    );
  });
});

describe("trackChecksum", () => {
  const samples = [0, 1, 2].map((i) => ({
    data: new Uint8Array([i, i + 10]),
    timestampNs: i * 40_000_000,
  }));

  it("is the SHA-256 of the sample bytes concatenated in timestamp order", () => {
    const expected = new Bun.CryptoHasher("sha256").update(new Uint8Array([0, 10, 1, 11, 2, 12]));
    expect(trackChecksum(samples)).toBe(expected.digest("hex"));
  });

  it("does not depend on the order the samples are given in", () => {
    expect(trackChecksum(samples.toReversed())).toBe(trackChecksum(samples));
  });
});
