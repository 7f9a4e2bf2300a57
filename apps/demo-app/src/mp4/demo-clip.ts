import { basename, join } from "node:path";
import golden from "../../media/clip.golden.json";
import expected from "../../media/clip.json";
import { readMp4 } from "./demux-mp4.ts";
import type { DemuxedMovie } from "./demuxed-movie.ts";
import type { GoldenFile } from "./golden-values.ts";

/** Absolute path of the demo clip (`apps/demo-app/media/clip.mp4`, made by `make-clip.sh`). */
export const DEMO_CLIP_PATH = join(import.meta.dir, "../../media", expected.file);

/** ffprobe's view of every packet of the demo clip (`clip.golden.json`, made by `make-clip.sh`). */
export const DEMO_CLIP_GOLDEN = golden as unknown as GoldenFile;

/**
 * What ffmpeg says about each track of the demo clip: id, type, sample count and SHA-256 of
 * all packets (`clip.json`), and of the presented ones (`clip.golden.json`: without the AAC
 * priming packet, which the renderer clips).
 */
export const DEMO_CLIP_TRACKS: readonly {
  readonly id: number;
  readonly type: string;
  readonly samples: number;
  readonly sha256: string;
  readonly presentedSamples: number;
  readonly presentedSha256: string;
}[] = expected.tracks.map((track) => {
  const probed = DEMO_CLIP_GOLDEN.tracks.find((t) => t.id === track.id);
  return {
    ...track,
    presentedSamples: probed?.presentedSamples ?? -1,
    presentedSha256: probed?.presentedSha256 ?? "",
  };
});

/** Reads and demuxes an MP4 file; errors name the file. */
export async function demuxMp4File(path: string): Promise<DemuxedMovie> {
  return readMp4(await Bun.file(path).bytes(), basename(path));
}

/** Reads and demuxes the demo clip. */
export function loadDemoClip(): Promise<DemuxedMovie> {
  return demuxMp4File(DEMO_CLIP_PATH);
}
