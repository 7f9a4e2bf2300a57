import type { DemuxedSample } from "./demuxed-movie.ts";

/**
 * SHA-256 (lowercase hex) over the samples' bytes in timestamp order, ties kept in the given
 * order. This is what the session server's `checksum` sink computes over the frames it renders,
 * so a track played through a pipeline must come back with the same value.
 */
export function trackChecksum(
  samples: readonly Pick<DemuxedSample, "data" | "timestampNs">[],
): string {
  const hasher = new Bun.CryptoHasher("sha256");
  const ordered = samples.toSorted((a, b) => a.timestampNs - b.timestampNs);
  for (const sample of ordered) hasher.update(sample.data);
  return hasher.digest("hex");
}
