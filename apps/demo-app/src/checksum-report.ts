import type { SourceOutcome } from "./clip-player.ts";
import type { DecodedReference } from "./decoded-reference.ts";
import { trackChecksum } from "./mp4/index.ts";

/** One source checked against the file. */
export interface SourceCheck {
  readonly type: "audio" | "video";
  /** Samples in the file's track. */
  readonly samples: number;
  readonly renderedFrames: number;
  readonly droppedFrames: number;
  readonly renderedBytes: number;
  /** SHA-256 the session server's checksum sink computed (undefined with the `null` sink). */
  readonly renderedChecksum: string | undefined;
  /**
   * The SHA-256 to match: over the track's samples in order (`trackChecksum`), or, when the
   * engine decodes, over the decoded output as the reference gives it; undefined when there is
   * no reference to check against (then only the frame count is checked).
   */
  readonly fileChecksum: string | undefined;
  /** Frames that must be rendered: the samples, or the reference's decoded frame count. */
  readonly expectedFrames: number;
  /**
   * Every expected frame rendered, none dropped, and the checksums equal where both exist (the
   * `device` sink keeps none).
   */
  readonly ok: boolean;
}

/**
 * Compares what each source rendered with its track: with the compressed samples (the virtual
 * engine renders them as they are), or, when `decoded` is given (a decoding engine), with the
 * decoded reference of the track; `decoded` null means the engine decodes and there is no
 * reference, so only frame counts are checked.
 */
export function checkOutcomes(
  outcomes: readonly SourceOutcome[],
  decoded?: DecodedReference | null,
): SourceCheck[] {
  return outcomes.map(({ track, stats }) => {
    const samples = track.samples.length;
    const reference = decoded === undefined ? undefined : decoded?.[track.type];
    const fileChecksum = decoded === undefined ? trackChecksum(track.samples) : reference?.sha256;
    const expectedFrames = reference?.frames ?? samples;
    return {
      type: track.type,
      samples,
      expectedFrames,
      renderedFrames: stats.renderedFrames,
      droppedFrames: stats.droppedFrames,
      renderedBytes: stats.renderedBytes,
      renderedChecksum: stats.checksum,
      fileChecksum,
      // A sink that keeps no checksum (device) is checked by its frame count alone.
      ok:
        stats.renderedFrames === expectedFrames &&
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
 * demo says `clear`: the samples of the clear clip).
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
