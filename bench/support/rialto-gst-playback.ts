import type { RialtoClient } from "@rialto/client";
import type { PlaybackState } from "@rialto/protocol";
import { ClipPlayer } from "../../apps/demo-app/src/clip-player.ts";
import type { DemuxedMovie, DemuxedTrack } from "../../apps/demo-app/src/mp4/index.ts";

/** Generous on a loaded 2-core machine; a stuck pipeline still fails the run. */
const DEADLINE_MS = 60_000;

/** Times of one start or seek, ns from the call: first decoded video frame, EndOfStream. */
export interface PlaybackTimes {
  readonly firstFrameNs: number;
  readonly endNs: number;
}

/** What the session server says one track rendered and dropped. */
export interface RenderedCounts {
  readonly rendered: number;
  readonly dropped: number;
}

/** Resolves with `Bun.nanoseconds()` at the next `playbackState` of each awaited state. */
class StateWaiters {
  readonly #waiting = new Map<PlaybackState, PromiseWithResolvers<number>>();

  seen(state: PlaybackState): void {
    const waiter = this.#waiting.get(state);
    this.#waiting.delete(state);
    waiter?.resolve(Bun.nanoseconds());
  }

  next(state: PlaybackState): Promise<number> {
    const waiter = Promise.withResolvers<number>();
    this.#waiting.set(state, waiter);
    return waiter.promise;
  }
}

/**
 * The demo's {@link ClipPlayer} on a client of a session server whose engine is GStreamer:
 * client → AV shared memory → session server → appsrc → decoder → appsink, the samples fed in
 * decode order on every needMediaData. Times are taken on the client, from the call to the
 * event (`firstFrame` of the video source, `playbackState EndOfStream`). Destroyed on dispose.
 */
export class RialtoGstPlayback implements AsyncDisposable {
  readonly #player: ClipPlayer;
  readonly #states: StateWaiters;
  #firstFrame: PromiseWithResolvers<number> | undefined;

  private constructor(player: ClipPlayer, states: StateWaiters) {
    this.#player = player;
    this.#states = states;
    const video = player.feeder("video")?.sourceId;
    player.pipeline.on("firstFrame", ({ sourceId }) => {
      if (sourceId === video) this.#firstFrame?.resolve(Bun.nanoseconds());
    });
  }

  /** Creates a pipeline of `client` for `movie` and resolves once it is prerolled (`Paused`). */
  static async preroll(client: RialtoClient, movie: DemuxedMovie): Promise<RialtoGstPlayback> {
    const states = new StateWaiters();
    const paused = states.next("Paused");
    const player = await ClipPlayer.open(client, movie, {
      decodeOrder: true,
      onState: (state) => states.seen(state),
    });
    const playback = new RialtoGstPlayback(player, states);
    try {
      await playback.#within(paused, "prerolled");
      return playback;
    } catch (error) {
      await player[Symbol.asyncDispose]();
      throw error;
    }
  }

  /** `play()` from Paused, until EndOfStream. */
  playToEnd(): Promise<PlaybackTimes> {
    return this.#timed(() => this.#player.play());
  }

  /** `setPosition(positionNs)` from EndOfStream (the feeders restart there), until EndOfStream. */
  seekToEnd(positionNs: number): Promise<PlaybackTimes> {
    return this.#timed(() => this.#player.seek(positionNs));
  }

  /** Frames rendered and dropped per track type, from the session server. */
  async rendered(): Promise<Record<DemuxedTrack["type"], RenderedCounts>> {
    const counts = { audio: { rendered: 0, dropped: 0 }, video: { rendered: 0, dropped: 0 } };
    for (const { track, stats } of await this.#player.outcomes()) {
      counts[track.type] = { rendered: stats.renderedFrames, dropped: stats.droppedFrames };
    }
    return counts;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#player[Symbol.asyncDispose]();
  }

  async #timed(action: () => Promise<void>): Promise<PlaybackTimes> {
    this.#firstFrame = Promise.withResolvers<number>();
    const end = this.#states.next("EndOfStream");
    const start = Bun.nanoseconds();
    await this.#within(action(), "answered");
    const firstFrame = await this.#within(this.#firstFrame.promise, "showed a first frame");
    const ended = await this.#within(end, "reached EndOfStream");
    return { firstFrameNs: firstFrame - start, endNs: ended - start };
  }

  /** `promise`, or the playback's failure, or a timeout naming `what` was awaited. */
  async #within<T>(promise: Promise<T>, what: string): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the Rialto pipeline never ${what} (${DEADLINE_MS} ms)`)),
        DEADLINE_MS,
      );
    });
    const failed = this.#player.ended.then(() => new Promise<never>(() => {}));
    try {
      return await Promise.race([promise, deadline, failed]);
    } finally {
      clearTimeout(timer);
    }
  }
}
