import type { SourceOutcome } from "./clip-player.ts";
import { presentedSamples, trackChecksum } from "./mp4/index.ts";

/** One source checked against the file. */
export interface SourceCheck {
  readonly type: "audio" | "video";
  /** Samples of the file's track a renderer presents (all but priming samples). */
  readonly samples: number;
  readonly renderedFrames: number;
  readonly droppedFrames: number;
  readonly renderedBytes: number;
  /** SHA-256 the session server's checksum sink computed (undefined with the `null` sink). */
  readonly renderedChecksum: string | undefined;
  /** SHA-256 over the track's presented samples in presentation order (`trackChecksum`). */
  readonly fileChecksum: string;
  /** Every sample rendered, none dropped, and the two checksums equal. */
  readonly ok: boolean;
}

/**
 * Compares what each source rendered with the presented samples of its track: every sample but
 * the priming ones (fed too, for the decoder, and clipped by the renderer); or, for a track
 * `expected` names (by track id; e.g. decrypted by ffmpeg), with that count and checksum.
 */
export function checkOutcomes(
  outcomes: readonly SourceOutcome[],
  expected?: ReadonlyMap<number, { readonly samples: number; readonly sha256: string }>,
): SourceCheck[] {
  return outcomes.map(({ track, stats }) => {
    const presented = presentedSamples(track.samples);
    const reference = expected?.get(track.id);
    const fileChecksum = reference?.sha256 ?? trackChecksum(presented);
    const samples = reference?.samples ?? presented.length;
    return {
      type: track.type,
      samples,
      renderedFrames: stats.renderedFrames,
      droppedFrames: stats.droppedFrames,
      renderedBytes: stats.renderedBytes,
      renderedChecksum: stats.checksum,
      fileChecksum,
      ok:
        stats.renderedFrames === samples &&
        stats.droppedFrames === 0 &&
        stats.checksum === fileChecksum,
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
  const verdict = check.renderedChecksum === check.fileChecksum ? "equal" : "DIFFERENT";
  return [
    `${label} ${check.renderedFrames}/${check.samples} samples rendered, ${check.droppedFrames} dropped, ${kib} KiB`,
    `${pad}rendered sha256 ${check.renderedChecksum ?? "(none: the sink is not checksum)"}`,
    `${pad}${reference.padEnd(8)} sha256 ${check.fileChecksum}  ${verdict}`,
  ];
}
