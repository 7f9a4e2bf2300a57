import { describe, expect, it } from "bun:test";
import { demuxMp4File } from "./mp4/index.ts";
import { TEST_CLIPS_DIR } from "./mp4/test-support/test-clips.ts";
import { selectTracks } from "./track-selection.ts";

const fourAudio = await demuxMp4File(`${TEST_CLIPS_DIR}/opus-ac3-eac3-aac.mp4`);

describe("selectTracks", () => {
  it("keeps the first playable track of each kind by default and names the others", () => {
    const { movie, notChosen, warnings } = selectTracks(fourAudio, {});
    expect(movie.tracks.map((t) => t.id)).toEqual([1]);
    expect(notChosen).toEqual([
      "track 2 (audio, ac-3) not chosen: --audio-track 2 plays it",
      "track 3 (audio, ec-3) not chosen: --audio-track 3 plays it",
      "track 4 (audio, mp4a.40.2) not chosen: --audio-track 4 plays it",
    ]);
    expect(warnings).toEqual([]);
  });

  it("keeps the track --audio-track names", () => {
    expect(selectTracks(fourAudio, { audioTrack: 4 }).movie.tracks.map((t) => t.mimeType)).toEqual([
      "audio/mp4",
    ]);
  });

  it("turns each track the demuxer skipped into one warning line naming the codec", () => {
    const movie = {
      ...fourAudio,
      skipped: [{ id: 9, handler: "clcp", reason: 'codec "c608" (clcp track)' }],
    };
    expect(selectTracks(movie, {}).warnings).toEqual([
      'warning: track 9 skipped: codec "c608" (clcp track)',
    ]);
  });

  it("refuses an id that is not a playable track of that kind with INVALID_ARGUMENT listing the ids", () => {
    expect(() => selectTracks(fourAudio, { audioTrack: 7 })).toThrow(
      "--audio-track 7: the file has no playable audio track with that id (its audio tracks: 1 (opus), 2 (ac-3), 3 (ec-3), 4 (mp4a.40.2))",
    );
  });
});
