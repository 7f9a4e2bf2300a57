import {
  type AnyMethod,
  type ApplicationState,
  compileValidator,
  describeValue,
  type Easing,
  MediaSourceStatus,
  type ParamsOf,
  type PayloadOf,
  type PipelineEvents,
  PipelineMethods,
  type PlaybackState,
  type ResultOf,
  RialtoError,
  type SourceStats,
} from "@rialto/protocol";
import {
  type MediaPipelineEventName,
  type MediaPipelineListener,
  PipelineEventListeners,
  type PipelineEventTarget,
  type PipelineReleaseReason,
} from "./media-pipeline-events.ts";
import { type AddSegmentStatus, NeedDataRequests } from "./media-pipeline-requests.ts";
import {
  type AudioSourceConfig,
  type MediaSegment,
  type MediaSourceConfig,
  toWireSource,
  type VideoSourceConfig,
} from "./media-pipeline-sources.ts";
import { SourceFeeder, type SourceFeederOptions } from "./source-feeder.ts";

const STATUS = compileValidator(MediaSourceStatus);

/** What a pipeline's playback side needs from its client. */
export interface PlaybackHost {
  /** Calls a `pipeline/*` method on the session server. */
  call<M extends AnyMethod>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>>;
  /** The whole AV shared-memory mapping while the app is Running, else undefined. */
  avMemory(): Uint8Array | undefined;
  /** The client's application state now. */
  applicationState(): ApplicationState;
}

/** Options of `load`. */
export interface LoadOptions {
  /** Container MIME type, e.g. `video/mp4; codecs="avc1.42c00d,mp4a.40.2"`. */
  readonly mimeType?: string;
  /** The media URL, for the server's logs (e.g. `mse://1`). */
  readonly url?: string;
  /** Live content; default false. */
  readonly isLive?: boolean;
}

/** Options of `setVolume`. */
export interface VolumeOptions {
  /** Ramp duration in ms, 0 .. 60000; default 0 (at once). */
  readonly durationMs?: number;
  /** Ramp shape; default `Linear`. */
  readonly easing?: Easing;
}

/**
 * The playback side of a media pipeline (SPEC 6, Rialto's `IMediaPipeline`): the control calls,
 * the events, and needMediaData → `addSegment` → `haveData` over the AV shared memory. Every
 * call resolves with the server's answer or rejects with its `RialtoError` (`INVALID_STATE`
 * while the app is not Running or the call does not fit the playback state, `NOT_FOUND` for an
 * unknown source, `INVALID_ARGUMENT` for bad values); once the pipeline was destroyed or
 * released, calls fail locally with `INVALID_STATE`.
 *
 * needMediaData is surfaced only while the app is Running with its memory mapped, and not
 * between a seek (or a flush of its source) being sent and the server's `SeekDone` (or
 * `sourceFlushed`): requests that arrive then were sent before the seek and are void (Rialto's
 * client drops them too; the server asks again after the seek). A seek or flush also voids
 * outstanding requests as it is sent.
 */
export class PipelinePlayback implements PipelineEventTarget {
  /** The session server's id of this pipeline. */
  readonly id: number;
  readonly #host: PlaybackHost;
  readonly #listeners = new PipelineEventListeners();
  readonly #requests = new NeedDataRequests();
  readonly #sources = new Map<number, MediaSourceConfig>();
  /** The config of an attached source (made once: addSegment runs per sample). */
  readonly #sourceConfig = (sourceId: number) => this.#sources.get(sourceId);
  /** Seeks sent whose SeekDone has not arrived: needMediaData before it predates the seek. */
  #seeks = 0;
  /** attachSource calls whose reply has not arrived. */
  #attaching = 0;
  /**
   * needMediaData of a source whose attachSource reply has not been read yet (the two may come
   * in one read): delivered once the app has the id.
   */
  readonly #early = new Map<number, PayloadOf<typeof PipelineEvents.needMediaData>>();
  /** Flushes sent per source whose sourceFlushed has not arrived. */
  readonly #flushes = new Map<number, number>();
  /** The push-style feeders, by source. */
  readonly #feeders = new Map<number, SourceFeeder>();
  #state: PlaybackState = "Idle";
  #ended: PipelineReleaseReason | "destroyed" | undefined;

  constructor(host: PlaybackHost, id: number) {
    this.#host = host;
    this.id = id;
  }

  /** The playback state last reported by the server (`Idle` until the first report). */
  get playbackState(): PlaybackState {
    return this.#state;
  }

  /** Listens to one pipeline event; returns the function that stops listening. */
  on<K extends MediaPipelineEventName>(name: K, listener: MediaPipelineListener<K>): () => void {
    return this.#listeners.on(name, listener);
  }

  /** Loads the pipeline for MSE playback (frames pushed by the app): the first call of a pipeline. */
  async load(options: LoadOptions = {}): Promise<void> {
    await this.#call(PipelineMethods.load, { pipelineId: this.id, type: "MSE", ...options });
  }

  /**
   * Attaches a source (one per type) after `load` and before `allSourcesAttached`; resolves with
   * its id. Rejects `INVALID_STATE` before `load`; `INVALID_ARGUMENT` for a MIME type the engine
   * does not list in `getSupportedMimeTypes` or codec data its format needs and lacks (see
   * {@link VideoSourceConfig}, {@link AudioSourceConfig}).
   */
  async attachSource(source: MediaSourceConfig): Promise<number> {
    this.#attaching++;
    let sourceId: number;
    try {
      ({ sourceId } = await this.#call(PipelineMethods.attachSource, {
        pipelineId: this.id,
        source: toWireSource(source),
      }));
    } finally {
      this.#attaching--;
    }
    this.#sources.set(sourceId, source);
    const early = this.#early.get(sourceId);
    this.#early.delete(sourceId);
    // After the caller's continuation: its listener knows the source by then.
    if (early !== undefined) setTimeout(() => this.#needMediaData(early), 0);
    return sourceId;
  }

  /**
   * A push-style feeder of one attached source: `append(samples)` whenever the app has them,
   * `endOfStream()` after the last; it answers every needMediaData of the source by itself and,
   * on a seek, drops what is queued and calls `options.onSeek(positionNs)` for the samples from
   * the new position. One per source; `NOT_FOUND` for a source not attached, `INVALID_STATE`
   * when the source already has one. Do not answer that source's needMediaData yourself too.
   */
  createSourceFeeder(sourceId: number, options: SourceFeederOptions = {}): SourceFeeder {
    if (this.#ended !== undefined) {
      throw new RialtoError(
        "INVALID_STATE",
        `createSourceFeeder: pipeline ${this.id} was ${this.#ended}`,
      );
    }
    if (!this.#sources.has(sourceId)) {
      throw new RialtoError(
        "NOT_FOUND",
        `createSourceFeeder: pipeline ${this.id} has no source ${describeValue(sourceId)} (attachSource first)`,
      );
    }
    if (this.#feeders.has(sourceId)) {
      throw new RialtoError(
        "INVALID_STATE",
        `createSourceFeeder: source ${sourceId} of pipeline ${this.id} already has a feeder`,
      );
    }
    const target = {
      addSegment: (requestId: number, segment: MediaSegment) => this.addSegment(requestId, segment),
      haveData: (status: MediaSourceStatus, requestId: number) => this.haveData(status, requestId),
      isOutstanding: (requestId: number) => this.#requests.has(requestId),
    };
    const feeder = new SourceFeeder(target, sourceId, options, () => {
      if (this.#feeders.get(sourceId) === feeder) this.#feeders.delete(sourceId);
    });
    this.#feeders.set(sourceId, feeder);
    return feeder;
  }

  /** @internal `switchSource` sent: the source of that type has this config from now on. */
  protected sourceSwitched(source: MediaSourceConfig): void {
    for (const [sourceId, config] of this.#sources) {
      if (config.type === source.type) this.#sources.set(sourceId, source);
    }
  }

  /** Removes a source; its outstanding request is void (and its feeder closed). */
  async removeSource(sourceId: number): Promise<void> {
    this.#feeders.get(sourceId)?.ended();
    this.#requests.dropSource(sourceId);
    await this.#call(PipelineMethods.removeSource, { pipelineId: this.id, sourceId });
    this.#sources.delete(sourceId);
  }

  /**
   * Every source is attached: prerolling starts (needMediaData for 3 frames per source), and
   * `Paused` is reported once every source has frames. `INVALID_STATE` before `load` and a source.
   */
  async allSourcesAttached(): Promise<void> {
    await this.#call(PipelineMethods.allSourcesAttached, { pipelineId: this.id });
  }

  /** Plays: `Playing` now, or once prerolled. `INVALID_STATE` before `allSourcesAttached`. */
  async play(): Promise<void> {
    await this.#call(PipelineMethods.play, { pipelineId: this.id });
  }

  /** Pauses; the position stays. */
  async pause(): Promise<void> {
    await this.#call(PipelineMethods.pause, { pipelineId: this.id });
  }

  /** Stops for good (`Stopped`); outstanding requests are void. */
  async stop(): Promise<void> {
    this.#requests.dropAll();
    for (const feeder of [...this.#feeders.values()]) feeder.ended();
    await this.#call(PipelineMethods.stop, { pipelineId: this.id });
  }

  /** Sets the playback rate: > 0 .. 64, 1 is normal speed. */
  async setPlaybackRate(rate: number): Promise<void> {
    await this.#call(PipelineMethods.setPlaybackRate, { pipelineId: this.id, rate });
  }

  /**
   * Seeks to `positionNs` (after `allSourcesAttached`, else `INVALID_STATE`): outstanding
   * requests are void at once and every queued frame is dropped; `Seeking`, then `SeekDone`,
   * then new needMediaData per source. The app repositions its samples: answer those requests
   * from the keyframe at or before `positionNs` (the server never picks samples). The pipeline
   * prerolls again (`Paused`), and if it was playing it goes back to `Playing` by itself, with
   * no `play()` call.
   */
  async setPosition(positionNs: number): Promise<void> {
    this.#requests.dropAll();
    for (const feeder of this.#feeders.values()) feeder.seeking(positionNs);
    this.#seeks++;
    try {
      await this.#call(PipelineMethods.setPosition, { pipelineId: this.id, positionNs });
    } catch (error) {
      this.#seeks = Math.max(0, this.#seeks - 1);
      throw error;
    }
  }

  /** The position in ns. */
  async getPosition(): Promise<number> {
    return (await this.#call(PipelineMethods.getPosition, { pipelineId: this.id })).positionNs;
  }

  /** Flushes one source (queued frames and its request); `sourceFlushed` follows. */
  async flush(sourceId: number, resetTime = false): Promise<void> {
    this.#requests.dropSource(sourceId);
    this.#feeders.get(sourceId)?.flushing();
    this.#flushes.set(sourceId, (this.#flushes.get(sourceId) ?? 0) + 1);
    try {
      await this.#call(PipelineMethods.flush, { pipelineId: this.id, sourceId, resetTime });
    } catch (error) {
      this.#flushDone(sourceId);
      throw error;
    }
  }

  /** Sets the volume (0 .. 1), at once or as a ramp. */
  async setVolume(volume: number, options: VolumeOptions = {}): Promise<void> {
    await this.#call(PipelineMethods.setVolume, { pipelineId: this.id, volume, ...options });
  }

  /** The volume (0 .. 1), mid-ramp values included. */
  async getVolume(): Promise<number> {
    return (await this.#call(PipelineMethods.getVolume, { pipelineId: this.id })).volume;
  }

  /** Mutes or unmutes one source, or the whole pipeline when `sourceId` is undefined. */
  async setMute(sourceId: number | undefined, mute: boolean): Promise<void> {
    await this.#call(PipelineMethods.setMute, {
      pipelineId: this.id,
      mute,
      ...(sourceId === undefined ? {} : { sourceId }),
    });
  }

  /**
   * Writes one sample for the needMediaData request `requestId` straight into shared memory,
   * synchronously: `Ok`; `NoSpace` when the request is full (its `frameCount`) or out of bytes,
   * so keep the sample for the next request; `Error` for a request that is unknown or no longer
   * outstanding (seek, flush, app not Running) or a sample the frame format refuses.
   */
  addSegment(requestId: number, segment: MediaSegment): AddSegmentStatus {
    return this.#requests.addSegment(requestId, segment, this.#sourceConfig, this.#host.avMemory());
  }

  /**
   * Answers the request `requestId` with the segments added to it (Rialto's argument order):
   * `Ok` (more to come), `Eos` (the source's last), `NoSpaceForSamples`, or `NoAvailableSamples`
   * / `Error` / `CodecChanged` (nothing is read; the server asks again after a back-off of 15 ms
   * doubling). Answering a request that is no longer outstanding is a no-op, as in Rialto.
   * Rejects with `INVALID_ARGUMENT` at once for a status or request id of the wrong type (a
   * swapped call must not be a silent no-op that stalls playback), and when the server cannot
   * read what was written (the server asks again).
   */
  async haveData(status: MediaSourceStatus, requestId: number): Promise<void> {
    if (!STATUS.check(status) || !Number.isInteger(requestId) || requestId < 0) {
      throw new RialtoError(
        "INVALID_ARGUMENT",
        `"${PipelineMethods.haveData.name}": haveData(status, requestId) takes a MediaSourceStatus and a request id, got (${describeValue(status)}, ${describeValue(requestId)})`,
      );
    }
    const answered = this.#requests.take(requestId);
    if (answered === undefined) return;
    await this.#call(PipelineMethods.haveData, {
      pipelineId: this.id,
      requestId,
      status,
      numFrames: answered.numFrames,
    });
  }

  /** Counters of one source: frames rendered and dropped, bytes, checksum (`checksum` sink). */
  async getStats(sourceId: number): Promise<SourceStats> {
    return this.#call(PipelineMethods.getStats, { pipelineId: this.id, sourceId });
  }

  /** @internal A wire event for this pipeline (routed by the client). */
  receive<K extends keyof typeof PipelineEvents>(
    name: K,
    payload: PayloadOf<(typeof PipelineEvents)[K]>,
  ): void {
    if (name === "needMediaData") {
      this.#needMediaData(payload as PayloadOf<typeof PipelineEvents.needMediaData>);
      return;
    }
    if (name === "playbackState") {
      this.#state = (payload as PayloadOf<typeof PipelineEvents.playbackState>).state;
      if (this.#state === "Seeking" || this.#state === "Stopped") this.#requests.dropAll();
      if (this.#state === "SeekDone") this.#seeks = Math.max(0, this.#seeks - 1);
    }
    if (name === "sourceFlushed") {
      this.#flushDone((payload as PayloadOf<typeof PipelineEvents.sourceFlushed>).sourceId);
    }
    const { pipelineId: _, ...local } = payload;
    this.#listeners.emit(name, local as never);
  }

  /**
   * The pipeline is gone (destroyed by the app, or released by the server): requests are void;
   * a release is told with the `released` event.
   */
  protected playbackEnded(reason: PipelineReleaseReason | "destroyed"): void {
    this.#ended ??= reason;
    this.#requests.dropAll();
    this.#early.clear();
    for (const feeder of [...this.#feeders.values()]) feeder.ended();
    if (reason !== "destroyed") this.#listeners.emit("released", { reason });
  }

  #needMediaData(event: PayloadOf<typeof PipelineEvents.needMediaData>): void {
    if (this.#ended !== undefined) return;
    const running = this.#host.applicationState() === "Running";
    if (!running || this.#host.avMemory() === undefined) return;
    if (this.#state === "Seeking" || this.#seeks > 0) return;
    if (!this.#sources.has(event.sourceId)) {
      if (this.#attaching > 0) this.#early.set(event.sourceId, event);
      return;
    }
    if (this.#flushes.has(event.sourceId)) return;
    this.#requests.accept(event);
    const { sourceId, requestId, frameCount } = event;
    this.#listeners.emit("needMediaData", { sourceId, requestId, frameCount });
    this.#feeders.get(sourceId)?.requested(requestId, frameCount);
  }

  #flushDone(sourceId: number): void {
    const pending = (this.#flushes.get(sourceId) ?? 1) - 1;
    if (pending > 0) this.#flushes.set(sourceId, pending);
    else this.#flushes.delete(sourceId);
  }

  /** Calls a `pipeline/*` method, or fails locally once the pipeline is destroyed or released. */
  protected call<M extends AnyMethod>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>> {
    return this.#call(method, params);
  }

  #call<M extends AnyMethod>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>> {
    if (this.#ended !== undefined) {
      const error = new RialtoError(
        "INVALID_STATE",
        `"${method.name}": pipeline ${this.id} was ${this.#ended}`,
      );
      return Promise.reject(error);
    }
    return this.#host.call(method, params);
  }
}
