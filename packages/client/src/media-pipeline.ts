import { type CreatePipelineParams, RialtoError } from "@rialto/protocol";
import { PipelineControls } from "./media-pipeline-controls.ts";
import type { PlaybackHost } from "./media-pipeline-playback.ts";

/** What a {@link MediaPipeline} needs from its client. */
export interface PipelineHost extends PlaybackHost {
  /** Calls `pipeline/destroy`. */
  destroyPipeline(pipelineId: number): Promise<void>;
}

/** A media pipeline's life as the client sees it. */
export type PipelineLifecycle = "created" | "destroyed" | "released";

/**
 * A media pipeline in the session server (SPEC 6, Rialto's `IMediaPipeline`), created with
 * `RialtoClient.createMediaPipeline`: the playback calls, events and the needMediaData →
 * `addSegment` → `haveData` data path of `PipelinePlayback`, the browser-path calls of
 * `PipelineControls`, and `destroy`. It is
 * `released` without a call when the session server freed it on its own (the app went
 * Inactive, the client went Inactive, or the server lost this client); the `released` event
 * tells the app.
 */
export class MediaPipeline extends PipelineControls {
  /** The video requirements it was created with. */
  readonly requirements: Readonly<CreatePipelineParams>;
  readonly #host: PipelineHost;
  #lifecycle: PipelineLifecycle = "created";

  /** @internal Created by `RialtoClient.createMediaPipeline`. */
  constructor(host: PipelineHost, id: number, requirements: CreatePipelineParams) {
    super(host, id);
    this.#host = host;
    this.requirements = requirements;
  }

  /** `created`, `destroyed` (by {@link destroy}) or `released` (freed by the session server). */
  get lifecycle(): PipelineLifecycle {
    return this.#lifecycle;
  }

  /**
   * Destroys the pipeline and frees its playback session. Resolves at once if already gone. From
   * the moment it is called the pipeline is gone for the app: outstanding requests are void
   * (`addSegment` answers `Error`, `haveData` is a no-op), later needMediaData is dropped and
   * other calls fail locally with `INVALID_STATE`, so nothing is written into a region the next
   * pipeline may already use.
   */
  async destroy(): Promise<void> {
    if (this.#lifecycle !== "created") return;
    this.#lifecycle = "destroyed";
    this.playbackEnded("destroyed");
    try {
      await this.#host.destroyPipeline(this.id);
    } catch (error) {
      // Freed by the server meanwhile (e.g. the app went Inactive): gone either way.
      if (!(error instanceof RialtoError && error.code === "NOT_FOUND")) throw error;
    }
  }

  /** @internal The session server freed it. */
  markReleased(): void {
    if (this.#lifecycle !== "created") return;
    this.#lifecycle = "released";
    this.playbackEnded("released");
  }
}
