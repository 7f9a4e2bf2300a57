import {
  type AnyEvent,
  type NeedMediaDataEvent,
  type PayloadOf,
  PipelineEvents,
  RialtoError,
} from "@rialto/protocol";

type Wire<K extends keyof typeof PipelineEvents> = PayloadOf<(typeof PipelineEvents)[K]>;
type Local<K extends keyof typeof PipelineEvents> = Omit<Wire<K>, "pipelineId">;

/** Why a pipeline ended without the app destroying it. */
export type PipelineReleaseReason =
  /** The session server freed it: the app or this client went Inactive, or it forgot the client. */
  "released";

/**
 * The events of a media pipeline (SPEC 6, Rialto's `IMediaPipelineClient`), as the app gets
 * them: the wire payloads without the pipeline id; `needMediaData` without the shared-memory
 * region, which only the pipeline itself writes to. `released` is the client's own: the
 * session server freed the pipeline (after `playbackState Stopped` when it was still there to
 * say so), and every later call fails.
 */
export interface MediaPipelineEvents {
  /** Playback state: `Idle, Playing, Paused, Seeking, SeekDone, Stopped, EndOfStream, Failure`. */
  playbackState: Local<"playbackState">;
  /** Network (buffering) state. */
  networkState: Local<"networkState">;
  /** Frames wanted for one source: `addSegment` up to `frameCount` of them, then `haveData`. */
  needMediaData: Omit<NeedMediaDataEvent, "pipelineId" | "region">;
  /** Position in ns, every 250 ms while playing and after a seek. */
  position: Local<"position">;
  /** Frames processed and dropped (late) so far by one source. */
  qos: Local<"qos">;
  /** A playing source ran out of frames. */
  bufferUnderflow: Local<"bufferUnderflow">;
  /** A source rendered its first frame (again after a flush or seek). */
  firstFrame: Local<"firstFrame">;
  /** A flush of one source completed. */
  sourceFlushed: Local<"sourceFlushed">;
  /** A playback error of one source (e.g. a frame that could not be decrypted). */
  playbackError: Local<"playbackError">;
  /** Position and volume every 32 ms while playing: answers position queries locally. */
  playbackInfo: Local<"playbackInfo">;
  /** The pipeline is gone without `destroy` (see {@link PipelineReleaseReason}). */
  released: { reason: PipelineReleaseReason };
}

/** The name of a {@link MediaPipelineEvents} event. */
export type MediaPipelineEventName = keyof MediaPipelineEvents;

/** A listener of one pipeline event. */
export type MediaPipelineListener<K extends MediaPipelineEventName> = (
  payload: MediaPipelineEvents[K],
) => void;

const EVENT_NAMES = new Set<string>([...Object.keys(PipelineEvents), "released"]);

/** Listeners of one pipeline's events; one that throws disturbs no other. */
export class PipelineEventListeners {
  readonly #listeners = new Map<MediaPipelineEventName, Set<(payload: never) => void>>();

  /** Adds a listener; returns the function that removes it. Unknown names: INVALID_ARGUMENT. */
  on<K extends MediaPipelineEventName>(name: K, listener: MediaPipelineListener<K>): () => void {
    if (!EVENT_NAMES.has(name)) {
      throw new RialtoError("INVALID_ARGUMENT", `MediaPipeline.on: unknown event "${name}"`);
    }
    let set = this.#listeners.get(name);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(name, set);
    }
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Calls every listener of `name` with `payload`, in the order they were added. */
  emit<K extends MediaPipelineEventName>(name: K, payload: MediaPipelineEvents[K]): void {
    for (const listener of this.#listeners.get(name) ?? []) {
      try {
        (listener as MediaPipelineListener<K>)(payload);
      } catch {
        // An app listener that throws must not break event delivery.
      }
    }
  }
}

/** What receives one pipeline's wire events. */
export interface PipelineEventTarget {
  receive<K extends keyof typeof PipelineEvents>(name: K, payload: Wire<K>): void;
}

/** Where wire events come from (`RetryClient.on` has this shape). */
export interface WireEventSource {
  on<E extends AnyEvent>(event: E, listener: (payload: PayloadOf<E>) => void): () => void;
}

/**
 * Subscribes once to every `pipeline/*` event of a client connection and hands each to the
 * pipeline it names (`lookup`); events of pipelines the client no longer knows are dropped.
 * Returns the function that unsubscribes.
 */
export function routePipelineEvents(
  source: WireEventSource,
  lookup: (pipelineId: number) => PipelineEventTarget | undefined,
): () => void {
  const names = Object.keys(PipelineEvents) as (keyof typeof PipelineEvents)[];
  const stops = names.map((name) =>
    source.on(PipelineEvents[name] as AnyEvent, (payload: Wire<typeof name>) =>
      lookup(payload.pipelineId)?.receive(name, payload),
    ),
  );
  return () => {
    for (const stop of stops) stop();
  };
}
