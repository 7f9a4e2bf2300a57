// The demuxer against ffprobe on the clips of media/test-clips (made by make-test-clips.sh with
// ffmpeg; the golden values are ffprobe's, read at the packets' own positions by make-golden.ts).
import { describe, expect, it } from "bun:test";
import { join } from "node:path";
import { decryptSample, type KeyStore } from "@rialto/session-server";
import keys from "../../media/test-clips/keys.json";
import { type Box, childBoxes, readBoxes } from "./box-reader.ts";
import { readMp4 } from "./demux-mp4.ts";
import type { DemuxedMovie, DemuxedTrack } from "./demuxed-movie.ts";
import { compareWithGolden, type GoldenFile, loadGolden } from "./golden-values.ts";
import {
  CLEAR_TEST_CLIPS,
  ENCRYPTED_TEST_CLIPS,
  TEST_CLIPS_DIR,
  testClipBytes,
} from "./test-support/test-clips.ts";
import { presentedSamples, trackChecksum } from "./track-checksum.ts";

async function clip(name: string): Promise<{ bytes: Uint8Array; movie: DemuxedMovie }> {
  const bytes = await testClipBytes(name);
  return { bytes, movie: readMp4(bytes, `${name}.mp4`) };
}

function golden(name: string): Promise<GoldenFile> {
  return loadGolden(join(TEST_CLIPS_DIR, `${name}.golden.json`));
}

/** The boxes of `type` anywhere under the top level (moof/traf, moov/trak/...). */
function boxesOf(bytes: Uint8Array, path: readonly string[]): Box[] {
  let level = readBoxes("clip", bytes, 0, bytes.byteLength);
  for (const type of path.slice(0, -1)) {
    level = level.filter((b) => b.type === type).flatMap((b) => childBoxes("clip", bytes, b));
  }
  return level.filter((b) => b.type === path.at(-1));
}

describe("demuxMp4 against ffprobe's golden values", () => {
  for (const name of CLEAR_TEST_CLIPS) {
    it(`reads ${name}.mp4 packet by packet as ffprobe does (bytes, pts, dts, flags) with its codec parameters`, async () => {
      const [{ movie }, expected] = await Promise.all([clip(name), golden(name)]);
      const comparisons = compareWithGolden(movie, expected);
      expect(comparisons.map((c) => [c.trackId, c.samples, c.firstDifference])).toEqual(
        expected.tracks.map((t) => [t.id, t.samples, undefined]),
      );
      for (const track of movie.tracks) {
        const reference = expected.tracks.find((t) => t.id === track.id);
        const params: (number | undefined)[] =
          track.type === "audio" ? [track.sampleRate, track.channels] : [track.width, track.height];
        const probed =
          track.type === "audio"
            ? [reference?.sampleRate, reference?.channels]
            : [reference?.width, reference?.height];
        expect(params).toEqual(probed);
        expect(trackChecksum(presentedSamples(track.samples))).toBe(
          reference?.presentedSha256 ?? "",
        );
      }
    });
  }

  it("finds several trun boxes with their own data offsets in fmp4-multitrun's fragments", async () => {
    const { bytes } = await clip("fmp4-multitrun");
    const trafs = boxesOf(bytes, ["moof", "traf"]);
    const runs = trafs.map((traf) =>
      childBoxes("clip", bytes, traf).filter((b) => b.type === "trun"),
    );
    expect(trafs.length).toBeGreaterThan(2);
    expect(runs.every((r) => r.length >= 2)).toBe(true);
  });

  it("reads the sidx and DASH segment layouts (sidx before the fragments; styp + sidx per segment)", async () => {
    const sidx = await clip("fmp4-sidx-audio");
    expect(boxesOf(sidx.bytes, ["sidx"]).length).toBe(1);
    const dash = await clip("dash-init-segments");
    expect(boxesOf(dash.bytes, ["styp"]).length).toBeGreaterThan(1);
    expect(boxesOf(dash.bytes, ["sidx"]).length).toBe(boxesOf(dash.bytes, ["styp"]).length);
  });

  it("takes the priming samples of AAC and Opus before 0 as ffprobe does; wholly before 0 is discard", async () => {
    const { movie } = await clip("h264-bframes-aac-mono");
    const aac = movie.tracks.find((t) => t.type === "audio") as DemuxedTrack;
    expect(aac.samples.filter((s) => s.discard).length).toBe(1);
    expect(aac.samples[0]?.timestampNs).toBeLessThan(0);
    const video = movie.tracks.find((t) => t.type === "video") as DemuxedTrack;
    // B-frames: the edit list moves the first presented frame to 0; decode times start before.
    expect(Math.min(...video.samples.map((s) => s.timestampNs))).toBe(0);
    expect(video.samples[0]?.decodeTimestampNs).toBeLessThan(0);
    const { movie: audio } = await clip("opus-ac3-eac3-aac");
    const opus = audio.tracks.find((t) => t.mimeType === "audio/x-opus") as DemuxedTrack;
    // Opus pre-skip (312 samples) is shorter than a packet (960): the first one starts before 0.
    expect(opus.samples[0]?.timestampNs).toBeLessThan(0);
    expect(opus.samples[0]?.discard).toBe(false);
  });

  it("attaches Opus, AC-3, E-AC-3 and AAC with their MIME types, codec strings and codec data", async () => {
    const { movie } = await clip("opus-ac3-eac3-aac");
    expect(
      movie.tracks.map((t) => [t.mimeType, t.codec, t.type === "audio" && t.channels]),
    ).toEqual([
      ["audio/x-opus", "opus", 2],
      ["audio/x-ac3", "ac-3", 2],
      ["audio/x-eac3", "ec-3", 6],
      ["audio/mp4", "mp4a.40.2", 6],
    ]);
    const opusHead = movie.tracks[0]?.codecData ?? new Uint8Array();
    expect(new TextDecoder().decode(opusHead.subarray(0, 8))).toBe("OpusHead");
  });
});

/** A key store holding the test clips' key (keys.json). */
const keyStore: KeyStore = {
  findKey: (keyId) => {
    const key = keys.keys.find(
      (k) => Uint8Array.fromBase64(k.kid, { alphabet: "base64url" }).toHex() === keyId.toHex(),
    );
    return key && Uint8Array.fromBase64(key.k, { alphabet: "base64url" });
  },
};

describe("demuxMp4 on encrypted clips (their clear twins' golden values are the reference)", () => {
  for (const { name, clear, scheme, pattern, pssh } of ENCRYPTED_TEST_CLIPS) {
    it(`reads ${name}.mp4's ${scheme} info (tenc, senc, pssh) and decrypts to the clear twin's packets`, async () => {
      const [{ movie }, expected] = await Promise.all([clip(name), golden(clear)]);
      expect(movie.pssh.map((p) => p.systemId)).toEqual([...pssh]);
      for (const track of movie.tracks) {
        const reference = expected.tracks.find((t) => t.id === track.id);
        expect(track.scheme).toBe(scheme);
        expect(track.keyIds).toEqual(["7e571d017e571d017e571d017e571d01"]);
        const decrypted = track.samples.map((sample) => {
          if (sample.encryption === undefined) return sample;
          expect(
            sample.encryption.pattern && [
              sample.encryption.pattern.cryptByteBlock,
              sample.encryption.pattern.skipByteBlock,
            ],
          ).toEqual(pattern && [...pattern]);
          return { ...sample, data: decryptSample(sample.data, sample.encryption, keyStore) };
        });
        const hashes = decrypted.map((s) =>
          new Bun.CryptoHasher("sha256").update(s.data).digest("hex"),
        );
        expect(hashes).toEqual(reference?.packets.map((p) => p[4]) ?? []);
        expect(trackChecksum(presentedSamples(decrypted))).toBe(reference?.presentedSha256 ?? "");
      }
    });
  }

  it("reads the same IVs and subsamples through saiz/saio when there is no senc box", async () => {
    for (const name of ["cbcs-1-9", "fmp4-cenc-clear-lead"]) {
      const bytes = await testClipBytes(name);
      const withSenc = readMp4(bytes, name);
      // Each senc renamed to free: same sizes, so saio still points at the entries inside it.
      const renamed = bytes.slice();
      const text = new TextDecoder("latin1").decode(renamed);
      let found = 0;
      for (let at = text.indexOf("senc"); at !== -1; at = text.indexOf("senc", at + 4)) {
        renamed.set(new TextEncoder().encode("free"), at);
        found++;
      }
      expect(found).toBeGreaterThan(0);
      const withSaio = readMp4(renamed, `${name} without senc`);
      const info = (movie: DemuxedMovie) =>
        movie.tracks.map((t) =>
          t.samples.map((s) => s.encryption && [s.encryption.iv.toHex(), s.encryption.subsamples]),
        );
      expect(info(withSaio)).toEqual(info(withSenc));
    }
  });

  it("leaves the clear lead's samples without encryption info and encrypts the rest", async () => {
    const { movie } = await clip("fmp4-cenc-clear-lead");
    for (const track of movie.tracks) {
      const clearCount = track.samples.findIndex((s) => s.encryption !== undefined);
      expect(clearCount).toBeGreaterThan(0);
      expect(track.samples.slice(clearCount).every((s) => s.encryption !== undefined)).toBe(true);
    }
  });
});
