import type { DemuxedSample } from "./demuxed-movie.ts";

/**
 * SHA-256 (lowercase hex) over the samples' bytes in timestamp order, ties kept in the given
 * order. This is what the session server's `checksum` sink computes over the frames it renders,
 * so the presented samples of a track played through a pipeline come back with this value.
 */
export function trackChecksum(
  samples: readonly Pick<DemuxedSample, "data" | "timestampNs">[],
): string {
  const hasher = new Bun.CryptoHasher("sha256");
  const ordered = samples.toSorted((a, b) => a.timestampNs - b.timestampNs);
  for (const sample of ordered) hasher.update(sample.data);
  return hasher.digest("hex");
}

/**
 * The samples a renderer presents: all but the priming ones (`discard`: they end at or before
 * the start of the presentation, and a renderer clips them as GStreamer clips what lies before
 * its segment).
 */
export function presentedSamples<S extends Pick<DemuxedSample, "discard">>(
  samples: readonly S[],
): S[] {
  return samples.filter((sample) => !sample.discard);
}
