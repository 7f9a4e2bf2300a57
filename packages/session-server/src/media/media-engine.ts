import type {
  AnyEvent,
  Easing,
  LoadParams,
  MediaSource,
  PayloadOf,
  PlaybackOptions,
  PlaybackState,
  SourceId,
  SourceStats,
} from "@rialto/protocol";
import type { MediaFrame, MediaKind } from "@rialto/shm";
import type { PipelineSettings } from "./pipeline-settings.ts";

/**
 * Sends one wire event to the client that owns the pipeline; payloads are complete wire payloads
 * (they carry the pipelineId). `RpcPeer.emit` has this shape.
 */
export type EmitEvent = <E extends AnyEvent>(event: E, payload: PayloadOf<E>) => void;

/** What a pipeline asks of its data side: up to `frameCount` frames of one source. */
export interface DataRequest {
  /** The source the frames are for. */
  readonly sourceId: SourceId;
  /** Its media kind (which region of the AV partition it uses). */
  readonly kind: MediaKind;
  /** Frames wanted: 3 while prerolling or paused, 24 while playing. */
  readonly frameCount: number;
}

/**
 * The pipeline's side of the world: wire events for the client, and the data side that turns
 * {@link PipelineListener.needData} into needMediaData/haveData over shared memory.
 */
export interface PipelineListener {
  /** Every pipeline event except `needMediaData` (the data side sends that one). */
  readonly emit: EmitEvent;
  /**
   * The pipeline wants frames of one source. At most one request per source is outstanding: the
   * next comes only after {@link Pipeline.pushFrames} or {@link Pipeline.endOfStream} answered
   * this one, or {@link PipelineListener.cancelData} voided it. Called synchronously from
   * pipeline methods: do not call back into the pipeline from here. Once it is called, the
   * client may rewrite the source's region: the pipeline no longer reads views of frames it
   * was pushed for that source (it copies what it still holds first).
   */
  needData(request: DataRequest): void;
  /** The outstanding request of `sourceId` is void (seek, flush, stop, removal): drop it. */
  cancelData(sourceId: SourceId): void;
}

/**
 * Turns an encrypted frame into clear bytes, or throws (a `RialtoError` whose
 * `details.playbackError` names the playback error kind, else `Decryption` is reported).
 * Decryption itself is media-keys work; the engine only calls this hook before rendering. With
 * `output` (at least the frame's length) the clear bytes may be written there, saving a copy: the
 * GStreamer engine decrypts straight into the buffer it pushes.
 */
export type FrameDecryptor = (frame: MediaFrame, output?: Uint8Array) => Uint8Array;

/** What a pipeline is created with. */
export interface CreatePipelineOptions {
  /** The wire handle, copied into every event payload. */
  readonly pipelineId: number;
  /** Engine, clock (`realtime` | `freerun`) and sink (`null` | `checksum` | `device`). */
  readonly playback: PlaybackOptions;
  /** Where events and data requests go. */
  readonly listener: PipelineListener;
  /** Decrypts encrypted frames; without it an encrypted frame fails with `playbackError`. */
  readonly decrypt?: FrameDecryptor;
}

/**
 * One media pipeline (Rialto's MediaPipeline, SPEC 6 and 9): the methods mirror `PipelineMethods`
 * of @rialto/protocol; the events are `PipelineEvents`. Methods throw `RialtoError`:
 * `INVALID_STATE` when the call does not fit the state, `NOT_FOUND` for an unknown source,
 * `INVALID_ARGUMENT` for a bad value. See README.md for states and timing rules.
 */
export interface Pipeline extends AsyncDisposable {
  /** The wire handle. */
  readonly id: number;
  /** The playback state last reported with `pipeline/playbackState`. */
  readonly state: PlaybackState;
  /** Records what is played (MSE only); allowed before any source is attached. */
  load(params: Omit<LoadParams, "pipelineId">): void;
  /** Attaches a source (one per media kind) before `allSourcesAttached`; returns its id. */
  attachSource(source: MediaSource): SourceId;
  /** Detaches a source and voids its data request. */
  removeSource(sourceId: SourceId): void;
  /** Every source is attached: prerolling starts (3-frame requests to every source). */
  allSourcesAttached(): void;
  /** Plays: `Playing` now, or as soon as prerolling ends. */
  play(): void;
  /** Pauses; the position stays where it is. */
  pause(): void;
  /** Stops for good: queues dropped, requests voided, state `Stopped`. */
  stop(): void;
  /** Sets the rate: > 0 .. 64, 1 is normal speed. */
  setPlaybackRate(rate: number): void;
  /** Seeks: `Seeking`, every queue flushed, `SeekDone`, then frames from `positionNs` on. */
  setPosition(positionNs: number): void;
  /** The current position in nanoseconds. */
  getPosition(): number;
  /** Flushes one source (queue and request); `sourceFlushed` follows. */
  flush(sourceId: SourceId, resetTime: boolean): void;
  /** Sets the volume (0 .. 1), at once or as a ramp of `durationMs` (default 0) shaped by `easing`. */
  setVolume(volume: number, durationMs?: number, easing?: Easing): void;
  /** The volume now (mid-ramp values included). */
  getVolume(): number;
  /** Mutes or unmutes one source, or the whole pipeline when `sourceId` is undefined. */
  setMute(sourceId: SourceId | undefined, mute: boolean): void;
  /** Whether a source (or, with undefined, the pipeline) is muted. */
  getMute(sourceId?: SourceId): boolean;
  /**
   * Frames for one source, answering its data request (any order; queued by timestamp). With
   * `endOfStream` (default false) they are the source's last: as if {@link Pipeline.endOfStream}
   * followed, without a data request in between. The frames' bytes (data, codec data, key id,
   * IV) may be views into the AV shared memory, borrowed until the pipeline next calls
   * {@link PipelineListener.needData} for the source: frames still held then are copied first.
   */
  pushFrames(sourceId: SourceId, frames: readonly MediaFrame[], endOfStream?: boolean): void;
  /** The source has no more frames (until a seek or flush), answering its data request. */
  endOfStream(sourceId: SourceId): void;
  /** Rendering counters of one source. */
  getStats(sourceId: SourceId): SourceStats;
  /**
   * The SPEC 9.2 settings (sync, immediate output, buffering, video window, ...), kept from the
   * moment they are made; the engine applies those it can act on.
   */
  readonly settings: PipelineSettings;
  /**
   * A source's new segment after its flush (an MSE seek is a flush plus this per source): frames
   * ending at or before `positionNs` are not rendered; with `resetTime` the position restarts
   * there.
   */
  setSourcePosition(
    sourceId: SourceId,
    positionNs: number,
    resetTime: boolean,
    appliedRate: number,
    stopPositionNs?: number,
  ): void;
  /** Replaces the description of the source of `source.type` (a codec or language switch). */
  switchSource(source: MediaSource): SourceId;
  /** While paused, renders the next video frame (a frame step). */
  renderFrame(): void;
  /** Releases timers and voids requests; no event follows. Idempotent. */
  destroy(): void;
  /**
   * Health check (SPEC 3 sequence 5): resolves once the pipeline's render loop has gone round
   * (its worker thread, its timers), so a wedged pipeline never resolves it. Optional: an engine
   * without it is taken as healthy.
   */
  heartbeat?(): Promise<void>;
}

/**
 * A playback back end (SPEC 9.1): the virtual engine by default (no media hardware needed), or
 * GStreamer. Capability answers come from the engine in use.
 */
export interface MediaEngine {
  /** Short name for logs: `virtual` or `gstreamer`. */
  readonly name: string;
  /** Creates a pipeline in state `Idle`. */
  createPipeline(options: CreatePipelineOptions): Pipeline;
  /** The elementary-stream MIME types this engine plays, of one source type or of all. */
  getSupportedMimeTypes(sourceType?: MediaKind): string[];
  /** Whether this engine plays a MIME type (parameters after `;` are ignored). */
  isMimeTypeSupported(mimeType: string): boolean;
  /** Which of `propertyNames` this engine supports for a source type, in the order given. */
  getSupportedProperties(sourceType: MediaKind, propertyNames: readonly string[]): string[];
}
