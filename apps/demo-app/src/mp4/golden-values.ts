import { RialtoError } from "@rialto/protocol";
import type { DemuxedMovie } from "./demuxed-movie.ts";
import { compareTrack, type ReferenceStream, type TrackComparison } from "./ffprobe-reference.ts";

/** One track of a golden file (`media/make-golden.ts`): what ffprobe read, committed. */
export interface GoldenTrack {
  readonly id: number;
  readonly type: string;
  /** ffprobe's codec name, e.g. `h264`, `aac`, `opus`, `ac3`, `eac3`. */
  readonly codec: string;
  readonly timescale: number;
  readonly sampleRate?: number;
  readonly channels?: number;
  readonly width?: number;
  readonly height?: number;
  readonly samples: number;
  /** SHA-256 over every packet in decode order (ffmpeg's streamhash). */
  readonly sha256: string;
  /** Packets not flagged discard. */
  readonly presentedSamples: number;
  /** SHA-256 over the presented packets in pts order: what a renderer's checksum gives. */
  readonly presentedSha256: string;
  /** `[size, pts, dts, flags, sha256]` per packet, decode order. */
  readonly packets: readonly (readonly [number, number | null, number | null, string, string])[];
}

/** A golden file: ffprobe's view of one MP4, made by `media/make-golden.ts`. */
export interface GoldenFile {
  readonly file: string;
  readonly madeWith: string;
  readonly tracks: readonly GoldenTrack[];
}

/** Reads a `*.golden.json`. */
export async function loadGolden(path: string): Promise<GoldenFile> {
  const golden = (await Bun.file(path).json()) as GoldenFile;
  if (!Array.isArray(golden.tracks)) {
    throw new RialtoError("INVALID_ARGUMENT", `loadGolden: "${path}" has no tracks`);
  }
  return golden;
}

/** A golden track as the reference stream {@link compareTrack} takes. */
export function goldenStream(track: GoldenTrack): ReferenceStream {
  return {
    trackId: track.id,
    codecType: track.type,
    codecName: track.codec,
    timescale: track.timescale,
    packets: track.packets.map(([size, pts, dts, flags, hash]) => ({
      size,
      hash: `SHA256:${hash}`,
      pts: pts ?? undefined,
      dts: dts ?? undefined,
      keyframe: flags.startsWith("K"),
      discard: flags.includes("D"),
    })),
  };
}

/**
 * Compares every demuxed track with the golden track of the same id (see {@link compareTrack});
 * a demuxed track the golden file does not have is a difference too.
 */
export function compareWithGolden(movie: DemuxedMovie, golden: GoldenFile): TrackComparison[] {
  return movie.tracks.map((track) => {
    const reference = golden.tracks.find((t) => t.id === track.id);
    if (reference === undefined) {
      return {
        trackId: track.id,
        samples: track.samples.length,
        referenceSamples: 0,
        bytesDiffer: 0,
        timesDiffer: 0,
        flagsDiffer: 0,
        firstDifference: `track ${track.id} is not in ${golden.file}'s golden values`,
      };
    }
    return compareTrack(track, goldenStream(reference));
  });
}
