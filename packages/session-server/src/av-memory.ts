import type { Resources, SharedMemoryInfo } from "@rialto/protocol";
import { type AvBufferLayout, computeAvBufferLayout, SharedMemory } from "@rialto/shm";

/** Page size the AV buffer is rounded up to, in bytes. */
export const AV_PAGE_SIZE = 4096;

/** Name of the AV memfd, as it shows in /proc (`/memfd:rialto-av`). */
export const AV_MEMFD_NAME = "rialto-av";

/**
 * Creates the memfd of the AV buffer: `size` bytes, mapped, sealed against shrinking and growing.
 * The one OS boundary of {@link AvMemory}; tests replace it to make allocation fail.
 */
export type AllocateSharedMemory = (size: number) => SharedMemory;

/** The default {@link AllocateSharedMemory}: `SharedMemory.create` with the handout seals. */
export const allocateAvMemfd: AllocateSharedMemory = (size) =>
  SharedMemory.create(size, { name: AV_MEMFD_NAME });

/**
 * The app's AV shared memory (SPEC 8): allocated when the session server becomes Active, handed
 * to clients on `session/getSharedMemory`, freed on Inactive. Partitioned per playback session
 * and per web-audio player by `computeAvBufferLayout` of @rialto/shm.
 */
export class AvMemory implements Disposable {
  readonly memory: SharedMemory;
  readonly layout: AvBufferLayout;

  private constructor(memory: SharedMemory, layout: AvBufferLayout) {
    this.memory = memory;
    this.layout = layout;
  }

  /**
   * Sizes the buffer from `resources` (web-audio partitions only when `supportsWebAudio`) and
   * allocates it, rounded up to whole pages; an app with no partitions still gets one page, so
   * every Active app has a mapping to hand out.
   */
  static allocate(
    resources: Resources,
    allocate: AllocateSharedMemory = allocateAvMemfd,
  ): AvMemory {
    const layout = computeAvBufferLayout({
      maxPlaybackSessions: resources.maxPlaybackSessions,
      maxWebAudioPlayers: resources.supportsWebAudio ? resources.maxWebAudioPlayers : 0,
    });
    return new AvMemory(allocate(avMemorySize(layout)), layout);
  }

  /** The memfd (owned here; send copies of it). */
  get fd(): number {
    return this.memory.fd;
  }

  /** Bytes of the memfd and of every mapping of it. */
  get size(): number {
    return this.memory.size;
  }

  /** The wire description of this buffer for a client, with the tag of the side-channel record. */
  describe(fdTag: number): SharedMemoryInfo {
    return {
      size: this.size,
      fdTag,
      // The layout's regions are the wire's ShmRegions; only the fields the wire names are sent.
      playback: this.layout.playback.map(({ index, video, audio, subtitle }) => ({
        index,
        video: { offset: video.offset, length: video.length },
        audio: { offset: audio.offset, length: audio.length },
        subtitle: { offset: subtitle.offset, length: subtitle.length },
      })),
      webAudio: this.layout.webAudio.map(({ index, offset, length }) => ({
        index,
        region: { offset, length },
      })),
    };
  }

  /** Unmaps and closes the memfd; clients keep their own mappings. Idempotent. */
  close(): void {
    this.memory.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** Bytes of the memfd for `layout`: its total size rounded up to pages, at least one page. */
export function avMemorySize(layout: AvBufferLayout): number {
  return Math.max(AV_PAGE_SIZE, Math.ceil(layout.totalSize / AV_PAGE_SIZE) * AV_PAGE_SIZE);
}
