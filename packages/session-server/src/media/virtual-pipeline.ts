import {
  type AnyEvent,
  type Easing,
  type LoadParams,
  MAX_FRAMES_PER_REQUEST,
  type MediaSource,
  type PayloadOf,
  PipelineEvents,
  type PlaybackState,
  RialtoError,
  type SourceId,
  type SourceStats,
} from "@rialto/protocol";
import type { MediaFrame } from "@rialto/shm";
import { clearBytes } from "./clear-bytes.ts";
import { createFrameSink } from "./frame-sink.ts";
import type { ClockTimer, MediaClock } from "./media-clock.ts";
import type { CreatePipelineOptions, Pipeline } from "./media-engine.ts";
import {
  checkOneSourcePerType,
  checkPosition,
  checkRate,
  refuse,
  sourceOf,
} from "./pipeline-checks.ts";
import { PipelineSettings } from "./pipeline-settings.ts";
import { PlaybackInfoTimer } from "./playback-info-timer.ts";
import { SourceRenderer } from "./source-renderer.ts";
import { createTimeBase, type TimeBase } from "./time-base.ts";
import { VolumeRamp } from "./volume-ramp.ts";

/** Frames asked for per request while prerolling, paused or after a seek (Rialto's 3). */
export const PREROLL_FRAME_COUNT = 3;
/** Frames asked for per request while playing (Rialto's 24). */
export const PLAYING_FRAME_COUNT = MAX_FRAMES_PER_REQUEST;

/** Knobs of the virtual renderer; every field has a default. */
export interface VirtualPipelineTuning {
  /** A source asks for more data while fewer frames than this are queued; default 24. */
  readonly maxQueuedFrames: number;
  /** A frame ending more than this before the position is dropped (realtime), ns; default 20 ms. */
  readonly maxLatenessNs: number;
  /** Interval of `position` events while playing, wall-clock ms; default 250. */
  readonly positionIntervalMs: number;
}

/** The defaults of {@link VirtualPipelineTuning}. */
export const DEFAULT_VIRTUAL_TUNING: VirtualPipelineTuning = Object.freeze({
  maxQueuedFrames: 24,
  maxLatenessNs: 20_000_000,
  positionIntervalMs: 250,
});

/**
 * The virtual back end's pipeline: no decoder, no output, but real scheduling. Frames are
 * queued per source in timestamp order and rendered into a sink when they fall due on the
 * pipeline's clock; state changes, position, QoS, underflow and errors are reported with the
 * wire events. README.md describes the states and timing rules.
 */
export class VirtualPipeline implements Pipeline {
  readonly id: number;
  readonly #options: CreatePipelineOptions;
  readonly #clock: MediaClock;
  readonly #tuning: VirtualPipelineTuning;
  readonly #time: TimeBase;
  readonly #volume: VolumeRamp;
  readonly #sources = new Map<SourceId, SourceRenderer>();
  #nextSourceId = 1;
  #state: PlaybackState = "Idle";
  #attached = false;
  #prerolling = false;
  #wantPlaying = false;
  #positionKnown = false;
  /** Frames ending at or before this (the last seek target) are not rendered, ns. */
  #startNs = 0;
  #pass: { readonly atMs: number; readonly timer: ClockTimer } | undefined;
  #positionTimer: ClockTimer | undefined;
  #muted = false;
  #destroyed = false;
  #loaded: Omit<LoadParams, "pipelineId"> | undefined;
  /** Per-source segment starts from `setSourcePosition` (else the pipeline's `#startNs`). */
  readonly #sourceStartNs = new Map<SourceId, number>();
  /**
   * Where encrypted frames are decrypted: sinks consume the bytes before `render` returns, so one
   * buffer serves every frame (a new one per frame cost more than decrypting a small sample).
   */
  #decrypted = new Uint8Array(0);
  /**
   * Sources flushed with `resetTime` and not given a position since: their next frame restarts
   * the time (the position follows it).
   */
  readonly #timeResets = new Set<SourceId>();
  readonly #playbackInfo: PlaybackInfoTimer;
  readonly settings = new PipelineSettings();

  constructor(options: CreatePipelineOptions, clock: MediaClock, tuning: VirtualPipelineTuning) {
    this.id = options.pipelineId;
    this.#options = options;
    this.#clock = clock;
    this.#tuning = tuning;
    this.#time = createTimeBase(options.playback.clock, clock);
    this.#volume = new VolumeRamp(clock);
    this.#playbackInfo = new PlaybackInfoTimer(clock, () =>
      this.#emit(PipelineEvents.playbackInfo, {
        pipelineId: this.id,
        currentPositionNs: this.getPosition(),
        volume: this.#volume.current(),
      }),
    );
  }

  get state(): PlaybackState {
    return this.#state;
  }

  /** What `load` recorded (media type, MIME type, URL), for logs. */
  get loaded(): Omit<LoadParams, "pipelineId"> | undefined {
    return this.#loaded;
  }

  load(params: Omit<LoadParams, "pipelineId">): void {
    this.#usable("load");
    if (this.#attached) this.#refuse("load", "is past allSourcesAttached");
    this.#loaded = params;
  }

  attachSource(source: MediaSource): SourceId {
    this.#usable("attachSource");
    // Past allSourcesAttached only an audio source may come, in place of a removed one (an audio
    // codec or language switch); it is asked for data at once.
    if (this.#attached && source.type !== "audio") {
      this.#refuse("attachSource", `is past allSourcesAttached (only audio may be attached now)`);
    }
    checkOneSourcePerType(this.#sources.values(), this.id, source.type);
    const id = this.#nextSourceId++;
    const sink = createFrameSink(this.#options.playback.sink);
    const renderer = new SourceRenderer(id, source.type, source.mimeType, sink);
    this.#sources.set(id, renderer);
    if (this.#attached) {
      // Until its first frames come, its empty queue is its start, not a stall.
      renderer.underflowReported = true;
      this.#sourceStartNs.set(id, this.getPosition());
      this.#dataChangedSoon();
    }
    return id;
  }

  switchSource(source: MediaSource): SourceId {
    this.#usable("switchSource");
    const existing = [...this.#sources.values()].find((s) => s.kind === source.type);
    if (existing === undefined) {
      throw new RialtoError(
        "NOT_FOUND",
        `pipeline/switchSource: pipeline ${this.id} has no ${source.type} source to switch`,
      );
    }
    // The same codec: the new description takes effect with the next frames.
    if (existing.mimeType === source.mimeType) return existing.id;
    // Another codec: what the old decoder would have read is dropped, and the source restarts at
    // the playhead, asked for data from there (as the GStreamer engine's new branch does).
    this.#void(existing);
    existing.flush();
    existing.mimeType = source.mimeType;
    existing.underflowReported = true;
    this.#timeResets.delete(existing.id);
    this.#sourceStartNs.set(existing.id, this.getPosition());
    this.#dataChangedSoon();
    return existing.id;
  }

  setSourcePosition(
    sourceId: SourceId,
    positionNs: number,
    resetTime: boolean,
    _appliedRate: number,
    _stopPositionNs?: number,
  ): void {
    this.#usable("setSourcePosition");
    this.#source("setSourcePosition", sourceId);
    checkPosition("setSourcePosition", positionNs);
    this.#timeResets.delete(sourceId);
    this.#sourceStartNs.set(sourceId, positionNs);
    if (resetTime) {
      this.#time.seek(positionNs);
      this.#positionKnown = true;
    }
  }

  renderFrame(): void {
    this.#usable("renderFrame");
    if (this.#state !== "Paused") this.#refuse("renderFrame", `is ${this.#state}, not Paused`);
    const video = [...this.#sources.values()].find((s) => s.kind === "video");
    const frame = video?.peek();
    if (video === undefined || frame === undefined) return;
    video.take();
    this.#renderFrame(video, frame);
    this.#refill();
  }

  removeSource(sourceId: SourceId): void {
    this.#usable("removeSource");
    this.#void(this.#source("removeSource", sourceId));
    this.#sources.delete(sourceId);
    this.#sourceStartNs.delete(sourceId);
    this.#timeResets.delete(sourceId);
    this.settings.forgetSource(sourceId);
    this.#dataChanged();
  }

  allSourcesAttached(): void {
    this.#usable("allSourcesAttached");
    if (this.#attached) this.#refuse("allSourcesAttached", "was already told so");
    if (this.#sources.size === 0) this.#refuse("allSourcesAttached", "has no source attached");
    this.#attached = true;
    this.#prerolling = true;
    this.#emit(PipelineEvents.networkState, { pipelineId: this.id, state: "Buffering" });
    this.#refill();
    this.#checkPreroll();
  }

  play(): void {
    this.#usable("play");
    this.#wantPlaying = true;
    if (this.#state === "Paused" && !this.#prerolling) this.#enterPlaying();
    // At EndOfStream with data again (a flush and new frames): play it.
    else if (this.#state === "EndOfStream" && !this.#allDrained()) this.#enterPlaying();
  }

  pause(): void {
    this.#usable("pause");
    this.#wantPlaying = false;
    if (this.#state !== "Playing" && this.#state !== "EndOfStream") return;
    this.#halt();
    this.#setState("Paused");
    this.#refill();
  }

  stop(): void {
    this.#usable("stop");
    this.#halt();
    for (const source of this.#sources.values()) {
      this.#void(source);
      source.flush();
    }
    this.#wantPlaying = false;
    this.#prerolling = false;
    this.#setState("Stopped");
  }

  setPlaybackRate(rate: number): void {
    this.#usable("setPlaybackRate");
    checkRate(rate);
    this.#time.setRate(rate);
    if (this.#state === "Playing") this.#reschedule();
  }

  setPosition(positionNs: number): void {
    this.#usable("setPosition");
    checkPosition("setPosition", positionNs);
    if (!this.#attached) this.#refuse("setPosition", "has not had allSourcesAttached");
    this.#halt();
    this.#setState("Seeking");
    for (const source of this.#sources.values()) {
      this.#void(source);
      source.flush();
    }
    this.#startNs = positionNs;
    this.#sourceStartNs.clear();
    this.#timeResets.clear();
    this.#time.seek(positionNs);
    this.#positionKnown = true;
    this.#setState("SeekDone");
    this.#emit(PipelineEvents.position, { pipelineId: this.id, positionNs });
    this.#prerolling = true;
    this.#refill();
    this.#checkPreroll();
  }

  getPosition(): number {
    return Math.max(0, this.#time.positionNs());
  }

  flush(sourceId: SourceId, resetTime: boolean): void {
    this.#usable("flush");
    const source = this.#source("flush", sourceId);
    this.#void(source);
    source.flush();
    // With resetTime the source's time restarts at its next frame (unless setSourcePosition says
    // where first); without it the position holds (a quality switch refills at the playhead).
    if (resetTime) this.#timeResets.add(sourceId);
    else this.#timeResets.delete(sourceId);
    // Until new frames come, an empty queue is the flush, not a stall (the app refills it).
    source.underflowReported = true;
    this.#emit(PipelineEvents.sourceFlushed, { pipelineId: this.id, sourceId });
    // A flushed source has data to come: EndOfStream is over (Playing again if play was asked).
    if (this.#state === "EndOfStream") {
      if (this.#wantPlaying) this.#enterPlaying();
      else this.#setState("Paused");
    }
    this.#dataChanged();
  }

  setVolume(volume: number, durationMs = 0, easing: Easing = "Linear"): void {
    this.#usable("setVolume");
    this.#volume.set(volume, durationMs, easing);
  }

  getVolume(): number {
    return this.#volume.current();
  }

  setMute(sourceId: SourceId | undefined, mute: boolean): void {
    this.#usable("setMute");
    if (sourceId === undefined) this.#muted = mute;
    else this.#source("setMute", sourceId).muted = mute;
  }

  getMute(sourceId?: SourceId): boolean {
    return sourceId === undefined ? this.#muted : this.#source("getMute", sourceId).muted;
  }

  pushFrames(sourceId: SourceId, frames: readonly MediaFrame[], endOfStream = false): void {
    this.#usable("pushFrames");
    const source = this.#source("pushFrames", sourceId);
    if (source.eos) this.#refuse("pushFrames", `has source ${sourceId} at end of stream`);
    const firstNs =
      frames.length > 0 && this.#timeResets.has(sourceId)
        ? Math.min(...frames.map((f) => f.timestampNs))
        : undefined;
    // enqueue checks the frames: the time moves only for valid ones.
    source.enqueue(frames, firstNs ?? this.#sourceStartNs.get(sourceId) ?? this.#startNs);
    if (firstNs !== undefined) {
      this.#timeResets.delete(sourceId);
      this.#sourceStartNs.set(sourceId, firstNs);
      this.#time.seek(firstNs);
      this.#positionKnown = true;
    }
    source.requestPending = false;
    source.eos = endOfStream;
    if (source.queued > 0) source.underflowReported = false;
    this.#dataChanged();
  }

  endOfStream(sourceId: SourceId): void {
    this.#usable("endOfStream");
    const source = this.#source("endOfStream", sourceId);
    source.eos = true;
    source.requestPending = false;
    this.#dataChanged();
  }

  getStats(sourceId: SourceId): SourceStats {
    return this.#source("getStats", sourceId).stats();
  }

  destroy(): void {
    if (this.#destroyed) return;
    this.#halt();
    for (const source of this.#sources.values()) {
      this.#void(source);
      // No view into shared memory outlives the pipeline (the memory may be unmapped next).
      source.flush();
    }
    this.#destroyed = true;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.destroy();
  }

  heartbeat(): Promise<void> {
    // Answered from the timer queue that drives the render passes.
    return new Promise((resolve) => this.#clock.setTimer(0, resolve));
  }

  #usable(method: string): void {
    if (this.#destroyed) this.#refuse(method, "is destroyed");
    if (this.#state === "Stopped") this.#refuse(method, "is Stopped");
  }

  #refuse(method: string, why: string): never {
    refuse(this.id, method, why);
  }

  #source(method: string, sourceId: SourceId): SourceRenderer {
    return sourceOf(this.#sources, this.id, method, sourceId);
  }

  #emit<E extends AnyEvent>(event: E, payload: PayloadOf<E>): void {
    if (!this.#destroyed) this.#options.listener.emit(event, payload);
  }

  #setState(state: PlaybackState): void {
    if (state === this.#state) return;
    this.#state = state;
    this.#emit(PipelineEvents.playbackState, { pipelineId: this.id, state });
  }

  /** Voids the source's outstanding data request, if any. */
  #void(source: SourceRenderer): void {
    if (!source.requestPending) return;
    source.requestPending = false;
    this.#options.listener.cancelData(source.id);
  }

  /** Stops the clock and every timer. */
  #halt(): void {
    this.#time.stop();
    this.#pass?.timer.cancel();
    this.#pass = undefined;
    this.#positionTimer?.cancel();
    this.#positionTimer = undefined;
    this.#playbackInfo.stop();
  }

  /** After frames, end of stream, a flush or a removal: preroll, render, ask for more. */
  #dataChanged(): void {
    this.#checkPreroll();
    if (this.#state === "Playing") this.#schedulePass(0);
    this.#refill();
  }

  /**
   * {@link #dataChanged} after the current call's reply: a source's first request after it was
   * attached or switched then reaches an app that knows the source (and its codec).
   */
  #dataChangedSoon(): void {
    this.#clock.setTimer(0, () => {
      if (!this.#destroyed && this.#state !== "Stopped") this.#dataChanged();
    });
  }

  /** Asks every source that has room and no request outstanding for frames. */
  #refill(): void {
    if (!this.#attached || this.#destroyed) return;
    if (this.#state === "Stopped" || this.#state === "Seeking") return;
    const frameCount = this.#state === "Playing" ? PLAYING_FRAME_COUNT : PREROLL_FRAME_COUNT;
    for (const source of this.#sources.values()) {
      if (source.requestPending || source.eos) continue;
      if (source.queued >= this.#tuning.maxQueuedFrames) continue;
      source.requestPending = true;
      // The request lets the client rewrite the region that queued frames may still view.
      source.ownQueuedFrames();
      this.#options.listener.needData({ sourceId: source.id, kind: source.kind, frameCount });
    }
  }

  /** Prerolled when every audio/video source has a frame queued or is at end of stream. */
  #checkPreroll(): void {
    if (!this.#prerolling) return;
    const sources = [...this.#sources.values()];
    if (sources.some((s) => s.kind !== "subtitle" && s.queued === 0 && !s.eos)) return;
    this.#prerolling = false;
    if (!this.#positionKnown) {
      // Content that does not start at 0 (a live stream, a cut) plays from its first frame.
      this.#positionKnown = true;
      const firstNs = Math.min(...sources.map((s) => s.peek()?.timestampNs ?? Infinity));
      if (Number.isFinite(firstNs) && firstNs > 0) {
        this.#startNs = firstNs;
        this.#time.seek(firstNs);
      }
    }
    this.#emit(PipelineEvents.networkState, { pipelineId: this.id, state: "Buffered" });
    this.#setState("Paused");
    if (this.#wantPlaying) this.#enterPlaying();
  }

  #enterPlaying(): void {
    this.#time.start();
    this.#setState("Playing");
    this.#startPositionTimer();
    this.#refill();
    this.#schedulePass(0);
  }

  #startPositionTimer(): void {
    this.#playbackInfo.start();
    const tick = () => {
      this.#positionTimer = this.#clock.setTimer(this.#tuning.positionIntervalMs, tick);
      this.#emit(PipelineEvents.position, { pipelineId: this.id, positionNs: this.getPosition() });
    };
    this.#positionTimer = this.#clock.setTimer(this.#tuning.positionIntervalMs, tick);
  }

  /** Runs a render pass `delayMs` from now, unless one is already due by then. */
  #schedulePass(delayMs: number): void {
    const atMs = this.#clock.now() + delayMs;
    if (this.#pass !== undefined && this.#pass.atMs <= atMs) return;
    this.#pass?.timer.cancel();
    const timer = this.#clock.setTimer(delayMs, () => {
      this.#pass = undefined;
      this.#renderPass();
    });
    this.#pass = { atMs, timer };
  }

  /** The rate changed: pending wake-ups are wrong, compute them again. */
  #reschedule(): void {
    this.#pass?.timer.cancel();
    this.#pass = undefined;
    this.#schedulePass(0);
  }

  /** Renders what is due on every source, then decides when to wake up next. */
  #renderPass(): void {
    if (this.#state !== "Playing") return;
    let wakeMs = Number.POSITIVE_INFINITY;
    for (const source of this.#sources.values()) {
      wakeMs = Math.min(wakeMs, this.#renderSource(source));
    }
    if (this.#allDrained()) {
      this.#halt();
      this.#setState("EndOfStream");
      return;
    }
    this.#refill();
    if (wakeMs < Number.POSITIVE_INFINITY) this.#schedulePass(wakeMs);
  }

  /**
   * Renders (or drops, when late) the due frames of one source and reports underflow; returns
   * the wall-clock ms until the source needs the next pass (Infinity: only new data will do).
   */
  #renderSource(source: SourceRenderer): number {
    const realtime = this.#time.kind === "realtime";
    const droppedBefore = source.droppedFrames;
    let wakeMs = Number.POSITIVE_INFINITY;
    for (let frame = source.peek(); frame !== undefined; frame = source.peek()) {
      const waitMs = this.#time.delayUntilMs(frame.timestampNs);
      if (waitMs > 0) {
        wakeMs = waitMs;
        break;
      }
      source.take();
      const endNs = frame.timestampNs + frame.durationNs;
      if (realtime && endNs + this.#tuning.maxLatenessNs < this.#time.positionNs()) source.drop();
      else this.#renderFrame(source, frame);
    }
    if (source.droppedFrames > droppedBefore) {
      const stats = source.stats();
      this.#emit(PipelineEvents.qos, {
        pipelineId: this.id,
        sourceId: source.id,
        processed: stats.renderedFrames + stats.droppedFrames,
        dropped: stats.droppedFrames,
      });
    }
    if (source.queued > 0) return wakeMs;
    // Queue empty: the source is due for more when the position reaches its last frame's end.
    const neededMs = this.#time.delayUntilMs(source.lastEndNs ?? this.#startNs);
    if (source.eos) return neededMs > 0 ? neededMs : Number.POSITIVE_INFINITY;
    if (!realtime || source.kind === "subtitle" || source.underflowReported) {
      return Number.POSITIVE_INFINITY;
    }
    if (neededMs > 0) return neededMs;
    source.underflowReported = true;
    this.#emit(PipelineEvents.bufferUnderflow, { pipelineId: this.id, sourceId: source.id });
    return Number.POSITIVE_INFINITY;
  }

  #allDrained(): boolean {
    return [...this.#sources.values()].every((s) => this.#drained(s));
  }

  #drained(source: SourceRenderer): boolean {
    return (
      source.eos &&
      source.queued === 0 &&
      this.#time.delayUntilMs(source.lastEndNs ?? this.#startNs) === 0
    );
  }

  #renderFrame(source: SourceRenderer, frame: MediaFrame): void {
    if (frame.encryption !== undefined && this.#decrypted.byteLength < frame.data.byteLength) {
      this.#decrypted = new Uint8Array(
        Math.max(frame.data.byteLength, 2 * this.#decrypted.byteLength),
      );
    }
    const bytes = clearBytes(frame, this.#options.decrypt, this.#decrypted);
    if (!(bytes instanceof Uint8Array)) {
      source.drop();
      this.#emit(PipelineEvents.playbackError, {
        pipelineId: this.id,
        sourceId: source.id,
        ...bytes,
      });
      return;
    }
    source.render(frame, bytes);
    this.#time.rendered(frame.timestampNs);
    if (source.firstFrameSent) return;
    source.firstFrameSent = true;
    this.#emit(PipelineEvents.firstFrame, { pipelineId: this.id, sourceId: source.id });
  }
}
