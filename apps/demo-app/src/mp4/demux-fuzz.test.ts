// Hostile input for the MP4 readers: generated boxes, and the repo's clips cut short and
// corrupted at random. Every outcome is a demuxed movie or a RialtoError INVALID_ARGUMENT; no
// other exception escapes and no input takes long (a hang would show as a slow run).
import { describe, expect, it } from "bun:test";
import { RialtoError } from "@rialto/protocol";
import fc from "fast-check";
import { parseAudioSpecificConfig } from "./audio-specific-config.ts";
import type { Box } from "./box-reader.ts";
import { DEMO_CLIP_PATH } from "./demo-clip.ts";
import { readMp4 } from "./demux-mp4.ts";
import {
  readAuxiliaryAt,
  readPssh,
  readSaio,
  readSaiz,
  readSenc,
  readTenc,
} from "./encryption-info.ts";
import { CLEAR_TEST_CLIPS, testClipBytes } from "./test-support/test-clips.ts";

/** A run slower than this is taken for a hang (generous: a loaded 2-core machine). */
const SLOW_MS = 2_000;

const clips = await Promise.all(
  [...CLEAR_TEST_CLIPS, "cbcs-2-8", "fmp4-cenc-clear-lead"].map(async (name) => ({
    name,
    bytes: await testClipBytes(name),
  })),
);

/** Runs `read`; fails the property on anything but success or a RialtoError INVALID_ARGUMENT. */
function typedOnly(read: () => unknown): void {
  const started = performance.now();
  try {
    read();
  } catch (error) {
    if (!(error instanceof RialtoError) || error.code !== "INVALID_ARGUMENT") {
      throw new Error(
        `escaped: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
      );
    }
  }
  const elapsed = performance.now() - started;
  if (elapsed > SLOW_MS) throw new Error(`took ${elapsed.toFixed(0)} ms`);
}

const u32 = (value: number) => [
  (value >>> 24) & 0xff,
  (value >>> 16) & 0xff,
  (value >>> 8) & 0xff,
  value & 0xff,
];
const TYPES = [
  "ftyp",
  "moov",
  "mvhd",
  "trak",
  "tkhd",
  "mdia",
  "mdhd",
  "hdlr",
  "minf",
  "stbl",
  "stsd",
  "stts",
  "ctts",
  "stsc",
  "stsz",
  "stco",
  "co64",
  "stss",
  "edts",
  "elst",
  "mvex",
  "trex",
  "moof",
  "traf",
  "tfhd",
  "tfdt",
  "trun",
  "senc",
  "saiz",
  "saio",
  "sinf",
  "frma",
  "schm",
  "schi",
  "tenc",
  "pssh",
  "mdat",
  "sidx",
  "styp",
  "avc1",
  "encv",
  "mp4a",
  "enca",
  "esds",
  "avcC",
  "dOps",
  "dac3",
];

/** A box tree: a type and either children or raw payload bytes; sizes sometimes lie. */
const boxTree: fc.Arbitrary<number[]> = fc.letrec<{ box: number[] }>((tie) => ({
  box: fc
    .tuple(
      fc.constantFrom(...TYPES),
      fc.oneof(
        { weight: 2, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => [...b]) },
        { weight: 1, arbitrary: fc.array(tie("box"), { maxLength: 4 }).map((c) => c.flat()) },
      ),
      fc.oneof(
        { weight: 6, arbitrary: fc.constant(0) },
        { weight: 1, arbitrary: fc.integer({ min: -16, max: 16 }) },
      ),
    )
    .map(([type, payload, lie]) => [
      ...u32(Math.max(0, 8 + payload.length + lie)),
      ...[...type].map((c) => c.charCodeAt(0)),
      ...payload,
    ]),
})).box;

describe("the MP4 box reader on hostile input", () => {
  it("gives a movie or a typed error for any bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) =>
        typedOnly(() => readMp4(bytes, "fuzz.mp4")),
      ),
      { numRuns: 500 },
    );
  });

  it("gives a movie or a typed error for generated box trees (moov, fragments, encryption boxes)", () => {
    fc.assert(
      fc.property(fc.array(boxTree, { maxLength: 6 }), (boxes) =>
        typedOnly(() => readMp4(new Uint8Array(boxes.flat()), "tree.mp4")),
      ),
      { numRuns: 500 },
    );
  });

  it("gives a movie or a typed error for every clip cut short at a random point", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...clips),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (clip, at) => {
          const cut = clip.bytes.subarray(0, Math.floor(clip.bytes.byteLength * at));
          typedOnly(() => readMp4(cut, `${clip.name} cut`));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("gives a movie or a typed error for every clip with random bytes overwritten", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...clips),
        fc.array(
          fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 255 })),
          {
            minLength: 1,
            maxLength: 8,
          },
        ),
        (clip, damage) => {
          const bytes = clip.bytes.slice();
          // Mostly in the first 4 KiB: the boxes that describe the samples live there.
          for (const [where, value] of damage) {
            const span = where < 0.7 ? Math.min(bytes.byteLength, 4096) : bytes.byteLength;
            bytes[Math.floor(where * (span - 1))] = value;
          }
          typedOnly(() => readMp4(bytes, `${clip.name} damaged`));
        },
      ),
      { numRuns: 400 },
    );
  });

  it("reads a file whose last box (its mdat) is cut short as far as it goes and names the first sample outside", async () => {
    const bytes = await Bun.file(DEMO_CLIP_PATH).bytes();
    expect(() => readMp4(bytes.subarray(0, bytes.byteLength - 1), "short.mp4")).toThrow(
      /"short\.mp4" track \d+ sample \d+: bytes .* outside the/,
    );
  });
});

describe("the encryption-info reader on hostile input", () => {
  const asBox = (type: string, bytes: Uint8Array): Box => ({
    type,
    start: 0,
    payloadStart: 0,
    end: bytes.byteLength,
  });

  it("reads tenc, pssh, senc, saiz and saio payloads of any bytes, IV size and count into values or typed errors", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 512 }),
        fc.constantFrom(0, 8, 16),
        fc.option(fc.nat({ max: 100_000 }), { nil: undefined }),
        (bytes, ivSize, count) => {
          typedOnly(() => readTenc("fuzz", bytes, asBox("tenc", bytes)));
          typedOnly(() => readPssh("fuzz", bytes, asBox("pssh", bytes)));
          typedOnly(() => readSenc("fuzz", bytes, asBox("senc", bytes), ivSize, count));
          typedOnly(() => readSaiz("fuzz", bytes, asBox("saiz", bytes)));
          typedOnly(() => readSaio("fuzz", bytes, asBox("saio", bytes)));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("reads auxiliary information at any offset and sizes into values or typed errors", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 256 }),
        fc.integer({ min: -8, max: 300 }),
        fc.array(fc.nat({ max: 64 }), { maxLength: 16 }),
        fc.constantFrom(0, 8, 16),
        (bytes, offset, sizes, ivSize) =>
          typedOnly(() => readAuxiliaryAt("fuzz", bytes, offset, sizes, ivSize)),
      ),
      { numRuns: 1000 },
    );
  });

  it("parses any AudioSpecificConfig into parameters or a RangeError (the entry is then unsupported)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 16 }), (config) => {
        try {
          const info = parseAudioSpecificConfig(config);
          expect(info.channels).toBeGreaterThan(0);
        } catch (error) {
          expect(error).toBeInstanceOf(RangeError);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
