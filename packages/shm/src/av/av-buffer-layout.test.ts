import { describe, expect, it } from "bun:test";
import fc from "fast-check";
import { ShmError } from "../errors.ts";
import { type AvRegion, computeAvBufferLayout } from "./av-buffer-layout.ts";

const MiB = 1024 * 1024;

describe("computeAvBufferLayout", () => {
  it("gives Rialto's sizes for two playback sessions and one web-audio player", () => {
    const layout = computeAvBufferLayout({ maxPlaybackSessions: 2, maxWebAudioPlayers: 1 });
    expect(layout.totalSize).toBe(17_311_744);
    expect(layout.playback[1]).toEqual({
      index: 1,
      offset: 8_650_752,
      length: 8_650_752,
      video: { offset: 8_650_752, length: 7 * MiB },
      audio: { offset: 8_650_752 + 7 * MiB, length: MiB },
      subtitle: { offset: 8_650_752 + 8 * MiB, length: 256 * 1024 },
    });
    expect(layout.webAudio).toEqual([{ index: 0, offset: 17_301_504, length: 10_240 }]);
  });

  it("is empty without resources", () => {
    expect(computeAvBufferLayout({ maxPlaybackSessions: 0, maxWebAudioPlayers: 0 })).toEqual({
      totalSize: 0,
      playback: [],
      webAudio: [],
    });
  });

  it("tiles the buffer with every region in order, for any counts and sizes", () => {
    const size = fc.integer({ min: 1, max: 1 << 20 }).map((n) => n * 8);
    fc.assert(
      fc.property(
        fc.nat(16),
        fc.nat(16),
        size,
        size,
        size,
        size,
        (sessions, players, video, audio, subtitle, webAudio) => {
          const layout = computeAvBufferLayout(
            { maxPlaybackSessions: sessions, maxWebAudioPlayers: players },
            { video, audio, subtitle, webAudio },
          );
          const regions: AvRegion[] = [
            ...layout.playback.flatMap((partition) => [
              partition.video,
              partition.audio,
              partition.subtitle,
            ]),
            ...layout.webAudio,
          ];
          let next = 0;
          for (const region of regions) {
            expect(region.offset).toBe(next);
            next += region.length;
          }
          expect(next).toBe(layout.totalSize);
          for (const partition of layout.playback) {
            expect(partition.offset).toBe(partition.video.offset);
            expect(partition.length).toBe(video + audio + subtitle);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("rejects counts and sizes out of range, naming them", () => {
    const cases: [() => unknown, string][] = [
      [
        () => computeAvBufferLayout({ maxPlaybackSessions: -1, maxWebAudioPlayers: 0 }),
        "maxPlaybackSessions -1",
      ],
      [
        () => computeAvBufferLayout({ maxPlaybackSessions: 1, maxWebAudioPlayers: 1.5 }),
        "maxWebAudioPlayers 1.5",
      ],
      [
        () => computeAvBufferLayout({ maxPlaybackSessions: 257, maxWebAudioPlayers: 0 }),
        "maxPlaybackSessions 257",
      ],
      [
        () =>
          computeAvBufferLayout({ maxPlaybackSessions: 1, maxWebAudioPlayers: 0 }, { video: 0 }),
        "video region size 0",
      ],
      [
        () =>
          computeAvBufferLayout({ maxPlaybackSessions: 1, maxWebAudioPlayers: 0 }, { audio: 12 }),
        "audio region size 12",
      ],
    ];
    for (const [action, message] of cases) {
      expect(action).toThrow(ShmError);
      expect(action).toThrow(message);
    }
  });
});
