import { RialtoError } from "@rialto/protocol";
import type { DemuxedMovie, DemuxedTrack } from "./mp4/index.ts";

/** Which tracks to play: MP4 track ids; undefined = the first playable track of the kind. */
export interface TrackChoice {
  readonly audioTrack?: number;
  readonly videoTrack?: number;
}

/** The movie cut to the chosen tracks, and one line per track left out. */
export interface SelectedTracks {
  readonly movie: DemuxedMovie;
  /** `warning: track 2 skipped: codec "c608" (clcp track)`: tracks that cannot be played. */
  readonly warnings: readonly string[];
  /** `track 2 (audio, mp4a.40.2) not chosen: --audio-track 2 plays it`: other playable tracks. */
  readonly notChosen: readonly string[];
}

function pick(
  tracks: readonly DemuxedTrack[],
  type: DemuxedTrack["type"],
  id: number | undefined,
): DemuxedTrack | undefined {
  const ofKind = tracks.filter((t) => t.type === type);
  if (id === undefined) return ofKind[0];
  const chosen = ofKind.find((t) => t.id === id);
  if (chosen === undefined) {
    const ids = ofKind.map((t) => `${t.id} (${t.codec})`).join(", ") || "none";
    throw new RialtoError(
      "INVALID_ARGUMENT",
      `--${type}-track ${id}: the file has no playable ${type} track with that id (its ${type} tracks: ${ids})`,
    );
  }
  return chosen;
}

/**
 * Keeps one video and one audio track of `movie`: the ones `choice` names, else the first
 * playable one of each kind. Tracks the demuxer skipped (codec, handler or scheme it cannot
 * play) give one warning line each, naming the codec.
 *
 * @throws RialtoError `INVALID_ARGUMENT` when a chosen id is not a playable track of that kind.
 */
export function selectTracks(movie: DemuxedMovie, choice: TrackChoice): SelectedTracks {
  const video = pick(movie.tracks, "video", choice.videoTrack);
  const audio = pick(movie.tracks, "audio", choice.audioTrack);
  const chosen = movie.tracks.filter((t) => t === video || t === audio);
  return {
    movie: { ...movie, tracks: chosen },
    warnings: movie.skipped.map((s) => `warning: track ${s.id} skipped: ${s.reason}`),
    notChosen: movie.tracks
      .filter((t) => !chosen.includes(t))
      .map(
        (t) =>
          `track ${t.id} (${t.type}, ${t.codec}) not chosen: --${t.type}-track ${t.id} plays it`,
      ),
  };
}
