import { describe, expect, it } from "bun:test";
import { computeAvBufferLayout, SharedMemory } from "@rialto/shm";
import { AV_PAGE_SIZE, AvMemory, avMemorySize } from "./av-memory.ts";

describe("AvMemory", () => {
  it("sizes the memfd from the resources, rounded up to whole pages", () => {
    // 2 playback sessions of 8.25 MiB each plus 3 web-audio players of 10 KiB: 30 KiB → 32 KiB.
    const layout = computeAvBufferLayout({ maxPlaybackSessions: 2, maxWebAudioPlayers: 3 });
    expect(avMemorySize(layout)).toBe(2 * 8_650_752 + 32 * 1024);
  });

  it("gives an app without partitions one page", () => {
    const layout = computeAvBufferLayout({ maxPlaybackSessions: 0, maxWebAudioPlayers: 0 });
    expect(avMemorySize(layout)).toBe(AV_PAGE_SIZE);
  });

  it("leaves out web-audio partitions when web audio is not supported", () => {
    const sizes: number[] = [];
    using memory = AvMemory.allocate(
      { maxPlaybackSessions: 1, supportsWebAudio: false, maxWebAudioPlayers: 4 },
      (size) => {
        sizes.push(size);
        return SharedMemory.create(size);
      },
    );
    expect(sizes).toEqual([8_650_752]);
    expect(memory.describe(9)).toMatchObject({ size: 8_650_752, fdTag: 9, webAudio: [] });
  });

  it("describes its partitions in wire form", () => {
    using memory = AvMemory.allocate({
      maxPlaybackSessions: 1,
      supportsWebAudio: true,
      maxWebAudioPlayers: 1,
    });
    expect(memory.describe(1)).toEqual({
      size: 8_650_752 + AV_PAGE_SIZE * 3,
      fdTag: 1,
      playback: [
        {
          index: 0,
          video: { offset: 0, length: 7_340_032 },
          audio: { offset: 7_340_032, length: 1_048_576 },
          subtitle: { offset: 8_388_608, length: 262_144 },
        },
      ],
      webAudio: [{ index: 0, region: { offset: 8_650_752, length: 10_240 } }],
    });
  });
});
