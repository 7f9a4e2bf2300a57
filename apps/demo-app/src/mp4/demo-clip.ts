import { basename, join } from "node:path";
import expected from "../../media/clip.json";
import { demuxMp4 } from "./demux-mp4.ts";
import type { DemuxedMovie } from "./demuxed-movie.ts";

/** Absolute path of the demo clip (`apps/demo-app/media/clip.mp4`, made by `make-clip.sh`). */
export const DEMO_CLIP_PATH = join(import.meta.dir, "../../media", expected.file);

/** What ffmpeg says about each track of the demo clip (`clip.json`): id, type, count, SHA-256. */
export const DEMO_CLIP_TRACKS: readonly {
  readonly id: number;
  readonly type: string;
  readonly samples: number;
  readonly sha256: string;
}[] = expected.tracks;

/** Reads and demuxes an MP4 file; errors name the file. */
export async function demuxMp4File(path: string): Promise<DemuxedMovie> {
  return demuxMp4(await Bun.file(path).bytes(), basename(path));
}

/** Reads and demuxes the demo clip. */
export function loadDemoClip(): Promise<DemuxedMovie> {
  return demuxMp4File(DEMO_CLIP_PATH);
}
