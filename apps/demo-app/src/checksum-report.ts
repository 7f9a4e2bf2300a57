import type { SourceOutcome } from "./clip-player.ts";
import type { DecodedReference } from "./decoded-reference.ts";
import type { ExpectedTrack } from "./media-reference.ts";
import { type DemuxedTrack, presentedSamples, trackChecksum } from "./mp4/index.ts";

/** What one track must render: a frame count, and the SHA-256 when there is a reference. */
export interface TrackExpectation {
  readonly frames: number;
  /** Undefined: no reference to compare the bytes with, only the count is checked. */
  readonly sha256?: string;
}

/** What each track must render; undefined for a track falls back to its presented samples. */
export type Expectation = (track: DemuxedTrack) => TrackExpectation | undefined;

/** One source checked against the file. */
export interface SourceCheck {
  readonly type: "audio" | "video";
  /** Samples of the file's track a renderer presents (all but priming samples). */
  readonly samples: number;
  /** Frames that must be rendered: the presented samples, or the expectation's count. */
  readonly expectedFrames: number;
  readonly renderedFrames: number;
  readonly droppedFrames: number;
  readonly renderedBytes: number;
  /** SHA-256 the session server's checksum sink computed (undefined with the `null` sink). */
  readonly renderedChecksum: string | undefined;
  /**
   * The SHA-256 to match: over the track's presented samples in presentation order
   * (`trackChecksum`), or the expectation's (e.g. decrypted by ffmpeg, or what a decoder must
   * output); undefined when there is none (then only the frame count is checked).
   */
  readonly fileChecksum: string | undefined;
  /**
   * Every expected frame rendered, none dropped, and the checksums equal where both exist (the
   * `device` sink keeps none).
   */
  readonly ok: boolean;
}

/** The expectation of the tracks a map names by track id (e.g. decrypted by ffmpeg). */
export function expectedByTrackId(expected: ReadonlyMap<number, ExpectedTrack>): Expectation {
  return (track) => {
    const reference = expected.get(track.id);
    return reference && { frames: reference.samples, sha256: reference.sha256 };
  };
}

/**
 * The expectation of a decoding engine: what the reference says a decoder outputs per track
 * type, or, without a reference (`null`), one decoded frame per sample fed and no checksum.
 */
export function expectedDecoded(reference: DecodedReference | null): Expectation {
  return (track) => reference?.[track.type] ?? { frames: track.samples.length, sha256: undefined };
}

/**
 * Compares what each source rendered with its track: by default with the presented samples
 * (every sample but the priming ones, which are fed too, for the decoder, and clipped by the
 * renderer), as the virtual engine renders them; or with what `expected` says.
 */
export function checkOutcomes(
  outcomes: readonly SourceOutcome[],
  expected?: Expectation,
): SourceCheck[] {
  return outcomes.map(({ track, stats }) => {
    const presented = presentedSamples(track.samples);
    const expectation = expected?.(track) ?? {
      frames: presented.length,
      sha256: trackChecksum(presented),
    };
    const fileChecksum = expectation.sha256;
    return {
      type: track.type,
      samples: presented.length,
      expectedFrames: expectation.frames,
      renderedFrames: stats.renderedFrames,
      droppedFrames: stats.droppedFrames,
      renderedBytes: stats.renderedBytes,
      renderedChecksum: stats.checksum,
      fileChecksum,
      // A sink that keeps no checksum (device) is checked by its frame count alone.
      ok:
        stats.renderedFrames === expectation.frames &&
        stats.droppedFrames === 0 &&
        (fileChecksum === undefined ||
          stats.checksum === undefined ||
          stats.checksum === fileChecksum),
    };
  });
}

/**
 * The report lines of one source, e.g.
 * ```
 * video  125/125 samples rendered, 0 dropped, 214.3 KiB
 *        rendered sha256 f7ee5a83…
 *        file     sha256 f7ee5a83…  equal
 * ```
 * `reference` names where the expected checksum comes from (default `file`; the encrypted
 * demo says `clear`: the samples of the clear clip; a decoding engine `golden` or `ffmpeg`).
 */
export function formatCheck(check: SourceCheck, reference = "file"): string[] {
  const label = check.type.padEnd(6);
  const pad = " ".repeat(label.length + 1);
  const kib = (check.renderedBytes / 1024).toFixed(1);
  const verdict =
    check.fileChecksum === undefined
      ? "(no reference: frame count only)"
      : check.renderedChecksum === undefined
        ? "(the sink keeps no checksum: frame count only)"
        : check.renderedChecksum === check.fileChecksum
          ? "equal"
          : "DIFFERENT";
  const unit = check.expectedFrames === check.samples ? "samples" : "frames";
  return [
    `${label} ${check.renderedFrames}/${check.expectedFrames} ${unit} rendered, ${check.droppedFrames} dropped, ${kib} KiB`,
    `${pad}rendered sha256 ${check.renderedChecksum ?? "(none: the sink is not checksum)"}`,
    `${pad}${reference.padEnd(8)} sha256 ${check.fileChecksum ?? "-"}  ${verdict}`,
  ];
}
