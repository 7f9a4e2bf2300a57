import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { RialtoError } from "@rialto/protocol";
import { decryptSample } from "@rialto/session-server";
import type { KeyMaterial } from "./key-material.ts";
import {
  compareTrack,
  compareWithGolden,
  DEMO_CLIP_GOLDEN,
  type DemuxedMovie,
  type DemuxedSample,
  demuxMp4File,
  ffprobeAvailable,
  presentedSamples,
  readReferencePackets,
  splitDashSegments,
  type TrackComparison,
  trackChecksum,
} from "./mp4/index.ts";

/** How the demuxer's reading of the file was checked, and what it found. */
export interface DemuxCheck {
  /** False when the demuxer and the reference disagree on a track. */
  readonly ok: boolean;
  /** One line per track, e.g. `video  120/120 samples equal to ffprobe's (bytes, pts, dts, flags)`. */
  readonly lines: readonly string[];
  /** For the success line, e.g. `checked against ffprobe`. */
  readonly phrase: string;
}

/** What a track must render: its presented samples' count and SHA-256. */
export interface ExpectedTrack {
  readonly samples: number;
  readonly sha256: string;
}

/** Where the checksums of an encrypted file's decrypted samples come from. */
export interface DecryptedReference {
  /** `clear` (the clear twin), `ffmpeg` (ffmpeg's own decryption) or `self-check`. */
  readonly label: "clear" | "ffmpeg" | "self-check";
  /** By track id. */
  readonly expected: ReadonlyMap<number, ExpectedTrack>;
  /** For the success line, e.g. `equal ffmpeg's own decryption`. */
  readonly phrase: string;
}

function describe(comparisons: readonly TrackComparison[], movie: DemuxedMovie, what: string) {
  return comparisons.map((c) => {
    const type = movie.tracks.find((t) => t.id === c.trackId)?.type ?? "track";
    const verdict =
      c.firstDifference === undefined
        ? `${c.samples}/${c.referenceSamples} samples equal to ${what} (bytes, pts, dts, flags)`
        : `DIFFERS from ${what}: ${c.firstDifference} (${c.bytesDiffer} bytes, ${c.timesDiffer} times, ${c.flagsDiffer} flags)`;
    return `${type.padEnd(6)} ${verdict}`;
  });
}

/**
 * Checks the demuxer against something it did not write: for the bundled clip the committed
 * golden values (`media/clip.golden.json`, ffprobe's), for another file ffprobe itself when it
 * is on PATH; without ffprobe the check says so ("self-check only").
 */
export async function checkDemuxer(
  movie: DemuxedMovie,
  path: string,
  bundled: boolean,
): Promise<DemuxCheck> {
  if (bundled) {
    const comparisons = compareWithGolden(movie, DEMO_CLIP_GOLDEN);
    return {
      ok: comparisons.every((c) => c.firstDifference === undefined),
      lines: describe(comparisons, movie, "ffprobe's golden values"),
      phrase: "the demuxer equals ffprobe's golden values (media/clip.golden.json)",
    };
  }
  if (!ffprobeAvailable()) {
    return {
      ok: true,
      lines: ["(ffprobe is not on PATH: the demuxer is not checked against it)"],
      phrase: "self-check only: ffprobe is not on PATH",
    };
  }
  let streams: Awaited<ReturnType<typeof readReferencePackets>>;
  try {
    streams = await readReferencePackets(path);
  } catch (error) {
    // The reference itself failed on this file: no verdict either way, and the line says why.
    const reason = error instanceof RialtoError ? error.message : String(error);
    return {
      ok: true,
      lines: [`(not checked: ${reason})`],
      phrase: "self-check only: ffprobe could not read the file",
    };
  }
  const comparisons = movie.tracks.map((track) => {
    const stream = streams.find((s) => s.trackId === track.id);
    if (stream === undefined) {
      throw new RialtoError("INTERNAL", `ffprobe does not see track ${track.id} of "${path}"`);
    }
    return compareTrack(track, stream);
  });
  return {
    ok: comparisons.every((c) => c.firstDifference === undefined),
    lines: describe(comparisons, movie, "ffprobe's"),
    phrase: "checked against ffprobe",
  };
}

function expectedOf(samples: readonly DemuxedSample[]): ExpectedTrack {
  const presented = presentedSamples(samples);
  return { samples: presented.length, sha256: trackChecksum(presented) };
}

/**
 * {@link expectedOf} over parts decrypted one at a time: ffmpeg starts each part's times again,
 * so the parts keep their order and only the samples inside each are put in time order.
 */
function expectedOfParts(parts: readonly (readonly DemuxedSample[])[]): ExpectedTrack {
  let offsetNs = 0;
  const joined: DemuxedSample[] = [];
  for (const part of parts) {
    const start = part.reduce((min, s) => Math.min(min, s.timestampNs), Number.POSITIVE_INFINITY);
    const end = part.reduce((max, s) => Math.max(max, s.timestampNs + s.durationNs), start);
    for (const sample of part)
      joined.push({ ...sample, timestampNs: sample.timestampNs - start + offsetNs });
    offsetNs += end - start;
  }
  return expectedOf(joined);
}

async function run(command: string[]): Promise<string> {
  const child = Bun.spawn(command, { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  if (code !== 0) {
    throw new RialtoError("INTERNAL", `${basename(command[0] ?? "")} failed: ${err.trim()}`);
  }
  return out;
}

/** Each track decrypted by ffmpeg (`-decryption_key`), remuxed alone and demuxed. */
async function ffmpegDecryption(
  movie: DemuxedMovie,
  path: string,
  key: Uint8Array,
): Promise<Map<number, ExpectedTrack>> {
  const ffprobe = Bun.which("ffprobe") ?? "ffprobe";
  const ffmpeg = Bun.which("ffmpeg") ?? "ffmpeg";
  const ids = await run([
    ffprobe,
    "-v",
    "error",
    "-show_entries",
    "stream=index,id",
    "-of",
    "csv=p=0",
    path,
  ]);
  const indexOf = new Map(
    ids
      .trim()
      .split("\n")
      .map((line) => line.split(","))
      .map(([index, id]) => [Number.parseInt(id ?? "", 16), Number(index)] as const),
  );
  const bytes = await Bun.file(path).bytes();
  const dir = await mkdtemp(join(tmpdir(), "rialto-decrypted-"));
  try {
    // DASH segments one at a time (ffmpeg stops at the second sidx), each behind the init.
    const inputs: string[] = [];
    for (const [index, part] of (splitDashSegments(bytes) ?? [bytes]).entries()) {
      inputs.push(join(dir, `input-${index}.mp4`));
      await Bun.write(inputs.at(-1) as string, part);
    }
    const expected = new Map<number, ExpectedTrack>();
    for (const track of movie.tracks) {
      const stream = indexOf.get(track.id);
      if (stream === undefined) {
        throw new RialtoError("INTERNAL", `ffprobe does not see track ${track.id}`);
      }
      const parts: DemuxedSample[][] = [];
      for (const [index, input] of inputs.entries()) {
        const output = join(dir, `track-${track.id}-${index}.mp4`);
        await run([
          ffmpeg,
          ...["-hide_banner", "-loglevel", "error", "-decryption_key", key.toHex(), "-i", input],
          ...["-map", `0:${stream}`, "-c", "copy", output],
        ]);
        const [decrypted] = (await demuxMp4File(output)).tracks;
        if (decrypted === undefined) {
          throw new RialtoError("INTERNAL", `ffmpeg wrote no track ${track.id}`);
        }
        parts.push([...decrypted.samples]);
      }
      expected.set(track.id, expectedOfParts(parts));
    }
    return expected;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The checksums the decrypted tracks of an encrypted file must render: the clear twin's
 * (`clearFile`) when given, else ffmpeg's own decryption when ffmpeg is on PATH and one key
 * decrypts the file (ffmpeg takes one), else the demo's own decryption (a self-check).
 */
export async function decryptedReference(
  movie: DemuxedMovie,
  path: string,
  material: KeyMaterial,
  clearFile: string | undefined,
): Promise<DecryptedReference> {
  if (clearFile !== undefined) {
    const clear = await demuxMp4File(clearFile);
    const expected = new Map<number, ExpectedTrack>();
    for (const track of movie.tracks) {
      const twin = clear.tracks.find((t) => t.id === track.id);
      if (twin === undefined || twin.samples.length !== track.samples.length) {
        throw new RialtoError(
          "INVALID_ARGUMENT",
          `--clear "${clearFile}" has no track ${track.id} with the ${track.samples.length} samples of "${path}"`,
        );
      }
      expected.set(track.id, expectedOf(twin.samples));
    }
    return { label: "clear", expected, phrase: `equal the clear twin's (${basename(clearFile)})` };
  }
  const keyIds = new Set(movie.tracks.flatMap((t) => t.keyIds));
  const [onlyKey] = [...keyIds].map((id) => material.get(id));
  if (Bun.which("ffmpeg") !== null && keyIds.size === 1 && onlyKey !== undefined) {
    return {
      label: "ffmpeg",
      expected: await ffmpegDecryption(movie, path, onlyKey),
      phrase: "equal ffmpeg's own decryption (-decryption_key)",
    };
  }
  const keys = { findKey: (keyId: Uint8Array) => material.get(keyId.toHex()) };
  const expected = new Map<number, ExpectedTrack>();
  for (const track of movie.tracks) {
    const samples = track.samples.map((sample) =>
      sample.encryption === undefined
        ? sample
        : { ...sample, data: decryptSample(sample.data, sample.encryption, keys) },
    );
    expected.set(track.id, expectedOf(samples));
  }
  return {
    label: "self-check",
    expected,
    phrase:
      "equal the demo's own decryption (self-check only: no --clear, and no ffmpeg for one key)",
  };
}
