import type { Pointer } from "bun:ffi";
import {
  type AnyEvent,
  describeValue,
  type Easing,
  type LoadParams,
  MAX_PLAYBACK_RATE,
  type MediaSource,
  type PayloadOf,
  PipelineEvents,
  type PlaybackState,
  RialtoError,
  type SourceId,
  type SourceStats,
} from "@rialto/protocol";
import type { MediaFrame } from "@rialto/shm";
import { clearBytes } from "../clear-bytes.ts";
import type { ClockTimer, MediaClock } from "../media-clock.ts";
import type { CreatePipelineOptions, Pipeline } from "../media-engine.ts";
import { PLAYING_FRAME_COUNT, PREROLL_FRAME_COUNT } from "../virtual-pipeline.ts";
import { VolumeRamp } from "../volume-ramp.ts";
import { createDecodedOutput, type DecodedOutput } from "./decoded-output.ts";
import { type BusMessage, type GstErrorInfo, type GstLibrary, GstState } from "./gst-ffi.ts";
import { describeLaunch, elementSourceId } from "./launch-description.ts";
import { planSource, type SourcePlan } from "./source-caps.ts";

/** Knobs of the GStreamer pipeline; every field has a default. */
export interface GstreamerTuning {
  /** How often the JS thread pops the bus, drains the sinks and tops up the appsrcs, ms; 4. */
  readonly pollIntervalMs: number;
  /** The same while nothing moves (Idle, Paused, EndOfStream), ms; 50. */
  readonly idlePollIntervalMs: number;
  /** Interval of `position` events while playing, ms; 250. */
  readonly positionIntervalMs: number;
}

/** The defaults of {@link GstreamerTuning}. */
export const DEFAULT_GSTREAMER_TUNING: GstreamerTuning = Object.freeze({
  pollIntervalMs: 4,
  idlePollIntervalMs: 50,
  positionIntervalMs: 250,
});

/** Longest message of a `playbackError` event (its wire limit). */
const MAX_ERROR_MESSAGE = 1024;

/** One source: its plan, its appsrc and output once built, and the data-request bookkeeping. */
interface GstSource {
  readonly id: SourceId;
  readonly kind: "audio" | "video";
  readonly source: MediaSource;
  readonly plan: SourcePlan;
  appsrc?: Pointer;
  output?: DecodedOutput;
  /** The `volume` element of an audio source. */
  volume?: Pointer;
  requestPending: boolean;
  eos: boolean;
  firstFrameSent: boolean;
  underflowReported: boolean;
  muted: boolean;
  /** Frames dropped by QoS (from the sink's QOS messages) and frames that failed to decrypt. */
  dropped: number;
  /** End (pts + duration) of the latest frame pushed, ns. */
  pushedEndNs: number;
}

/** What the engine hands each pipeline. */
export interface GstreamerPipelineDeps {
  readonly gst: GstLibrary;
  readonly clock: MediaClock;
  readonly tuning: GstreamerTuning;
}

/**
 * A media pipeline played by GStreamer (SPEC 9.1): one GstPipeline, built when every source is
 * attached, with an appsrc, decoder and sink per source. Everything runs on the JS thread: a
 * poll timer pops the bus, drains the sinks and tops up the appsrcs (needData when an appsrc
 * holds fewer than 3 frames while prerolling or paused, 24 while playing). States follow the bus:
 * ASYNC_DONE ends prerolling (`Paused`), the pipeline reaching PLAYING is `Playing`, EOS is
 * `EndOfStream`, the first ERROR is `Failure` with `playbackError`. Frames are copied (decrypted
 * first when encrypted) into GStreamer buffers, so the AV shared memory is never referenced by
 * GStreamer. README.md in this folder has the details.
 */
export class GstreamerPipeline implements Pipeline {
  readonly id: number;
  readonly #options: CreatePipelineOptions;
  readonly #gst: GstLibrary;
  readonly #clock: MediaClock;
  readonly #tuning: GstreamerTuning;
  readonly #volume: VolumeRamp;
  readonly #sources = new Map<SourceId, GstSource>();
  #nextSourceId = 1;
  #state: PlaybackState = "Idle";
  #pipeline: Pointer | undefined;
  #bus: Pointer | undefined;
  #prerolling = false;
  #wantPlaying = false;
  #failed = false;
  #destroyed = false;
  #rate = 1;
  #lastPositionNs = 0;
  #appliedVolume = 1;
  #poll: ClockTimer | undefined;
  #positionTimer: ClockTimer | undefined;
  #muted = false;
  #loaded: Omit<LoadParams, "pipelineId"> | undefined;

  constructor(options: CreatePipelineOptions, deps: GstreamerPipelineDeps) {
    this.id = options.pipelineId;
    this.#options = options;
    this.#gst = deps.gst;
    this.#clock = deps.clock;
    this.#tuning = deps.tuning;
    this.#volume = new VolumeRamp(deps.clock);
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
    if (this.#pipeline !== undefined) this.#refuse("load", "is past allSourcesAttached");
    this.#loaded = params;
  }

  attachSource(source: MediaSource): SourceId {
    this.#usable("attachSource");
    if (this.#pipeline !== undefined) this.#refuse("attachSource", "is past allSourcesAttached");
    if (source.type === "subtitle") {
      throw new RialtoError(
        "INVALID_ARGUMENT",
        `pipeline/attachSource: the GStreamer engine renders no subtitles ("${source.mimeType}")`,
      );
    }
    for (const existing of this.#sources.values()) {
      if (existing.kind === source.type) {
        throw new RialtoError(
          "INVALID_ARGUMENT",
          `pipeline/attachSource: pipeline ${this.id} already has a ${source.type} source (${existing.id})`,
        );
      }
    }
    const plan = planSource(source, (factory) => this.#gst.hasElement(factory));
    const kind = source.type;
    const id = this.#nextSourceId++;
    this.#sources.set(id, {
      id,
      kind,
      source,
      plan,
      requestPending: false,
      eos: false,
      firstFrameSent: false,
      underflowReported: false,
      muted: false,
      dropped: 0,
      pushedEndNs: 0,
    });
    return id;
  }

  removeSource(sourceId: SourceId): void {
    this.#usable("removeSource");
    const source = this.#source("removeSource", sourceId);
    if (this.#pipeline !== undefined) {
      this.#refuse("removeSource", "is past allSourcesAttached (its GStreamer pipeline is built)");
    }
    this.#void(source);
    this.#sources.delete(sourceId);
  }

  allSourcesAttached(): void {
    this.#usable("allSourcesAttached");
    if (this.#pipeline !== undefined) this.#refuse("allSourcesAttached", "was already told so");
    if (this.#sources.size === 0) this.#refuse("allSourcesAttached", "has no source attached");
    this.#build();
    this.#prerolling = true;
    this.#emit(PipelineEvents.networkState, { pipelineId: this.id, state: "Buffering" });
    if (this.#setGstState(GstState.Paused)) this.#refill();
    this.#schedulePoll();
  }

  play(): void {
    this.#usable("play");
    this.#wantPlaying = true;
    if (this.#pipeline === undefined || this.#prerolling || this.#failed) return;
    if (this.#state === "Paused" || this.#state === "EndOfStream") {
      this.#setGstState(GstState.Playing);
      this.#schedulePoll();
    }
  }

  pause(): void {
    this.#usable("pause");
    this.#wantPlaying = false;
    if (this.#state !== "Playing" && this.#state !== "EndOfStream") return;
    this.#setGstState(GstState.Paused);
    this.#stopPositionTimer();
    this.#setState("Paused");
  }

  stop(): void {
    this.#usable("stop");
    this.#halt();
    for (const source of this.#sources.values()) this.#void(source);
    if (this.#pipeline !== undefined) this.#gst.setState(this.#pipeline, GstState.Null);
    this.#wantPlaying = false;
    this.#prerolling = false;
    this.#setState("Stopped");
  }

  setPlaybackRate(rate: number): void {
    this.#usable("setPlaybackRate");
    if (!(typeof rate === "number" && rate > 0 && rate <= MAX_PLAYBACK_RATE)) {
      throw new RialtoError(
        "INVALID_ARGUMENT",
        `pipeline/setPlaybackRate: rate ${describeValue(rate)} is not > 0 and <= ${MAX_PLAYBACK_RATE}`,
      );
    }
    this.#rate = rate;
    if (this.#pipeline === undefined || this.#prerolling) return;
    // An instant rate change keeps the data flowing; where an element refuses it, a flushing
    // seek to the current position applies the rate instead.
    if (!this.#gst.instantRate(this.#pipeline, rate)) this.setPosition(this.getPosition());
  }

  setPosition(positionNs: number): void {
    this.#usable("setPosition");
    if (!Number.isSafeInteger(positionNs) || positionNs < 0) {
      throw new RialtoError(
        "INVALID_ARGUMENT",
        `pipeline/setPosition: position ${describeValue(positionNs)} ns is not a non-negative integer`,
      );
    }
    const pipeline = this.#pipeline;
    if (pipeline === undefined) this.#refuse("setPosition", "has not had allSourcesAttached");
    this.#stopPositionTimer();
    this.#setState("Seeking");
    for (const source of this.#sources.values()) {
      this.#void(source);
      source.eos = false;
      source.firstFrameSent = false;
      source.underflowReported = false;
      source.pushedEndNs = positionNs;
    }
    // A flushing seek empties every appsrc and the decoders before it returns.
    if (!this.#gst.seek(pipeline, positionNs, this.#rate)) {
      this.#fail(undefined, `GStreamer refused the seek to ${positionNs} ns`);
      return;
    }
    this.#lastPositionNs = positionNs;
    this.#setState("SeekDone");
    this.#emit(PipelineEvents.position, { pipelineId: this.id, positionNs });
    this.#prerolling = true;
    this.#refill();
    this.#schedulePoll();
  }

  getPosition(): number {
    if (this.#pipeline !== undefined && !this.#prerolling) {
      const position = this.#gst.position(this.#pipeline);
      // A position query answers the segment position: never report one before the last seek.
      if (position !== undefined) this.#lastPositionNs = Math.max(0, position);
    }
    return this.#lastPositionNs;
  }

  flush(sourceId: SourceId, resetTime: boolean): void {
    this.#usable("flush");
    const source = this.#source("flush", sourceId);
    this.#void(source);
    if (source.appsrc !== undefined) this.#gst.flush(source.appsrc, resetTime);
    source.eos = false;
    source.firstFrameSent = false;
    source.underflowReported = false;
    this.#emit(PipelineEvents.sourceFlushed, { pipelineId: this.id, sourceId });
    this.#refill();
  }

  setVolume(volume: number, durationMs = 0, easing: Easing = "Linear"): void {
    this.#usable("setVolume");
    this.#volume.set(volume, durationMs, easing);
    this.#applyVolume();
    if (durationMs > 0) this.#schedulePoll();
  }

  getVolume(): number {
    return this.#volume.current();
  }

  setMute(sourceId: SourceId | undefined, mute: boolean): void {
    this.#usable("setMute");
    if (sourceId === undefined) this.#muted = mute;
    else this.#source("setMute", sourceId).muted = mute;
    this.#applyMute();
  }

  getMute(sourceId?: SourceId): boolean {
    return sourceId === undefined ? this.#muted : this.#source("getMute", sourceId).muted;
  }

  pushFrames(sourceId: SourceId, frames: readonly MediaFrame[], endOfStream = false): void {
    this.#usable("pushFrames");
    const source = this.#source("pushFrames", sourceId);
    if (source.eos) this.#refuse("pushFrames", `has source ${sourceId} at end of stream`);
    const appsrc = source.appsrc;
    if (appsrc === undefined) this.#refuse("pushFrames", "has not had allSourcesAttached");
    for (const frame of frames) {
      if (frame.kind !== source.kind) {
        throw new RialtoError(
          "INVALID_ARGUMENT",
          `pipeline/pushFrames: a ${frame.kind} frame for ${source.kind} source ${sourceId}`,
        );
      }
    }
    source.requestPending = false;
    for (const frame of frames) this.#pushFrame(source, appsrc, frame);
    if (frames.length > 0) source.underflowReported = false;
    if (endOfStream) this.endOfStream(sourceId);
    else this.#refill();
  }

  endOfStream(sourceId: SourceId): void {
    this.#usable("endOfStream");
    const source = this.#source("endOfStream", sourceId);
    source.eos = true;
    source.requestPending = false;
    if (source.appsrc !== undefined) this.#gst.endOfStream(source.appsrc);
  }

  getStats(sourceId: SourceId): SourceStats {
    const source = this.#source("getStats", sourceId);
    source.output?.poll();
    const counters = source.output?.counters() ?? { renderedFrames: 0, renderedBytes: 0 };
    return { ...counters, droppedFrames: source.dropped };
  }

  destroy(): void {
    if (this.#destroyed) return;
    this.#halt();
    for (const source of this.#sources.values()) this.#void(source);
    this.#destroyed = true;
    this.#teardown();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.destroy();
  }

  /** Builds the GstPipeline for the attached sources and takes references to its elements. */
  #build(): void {
    const playback = this.#options.playback;
    const sources = [...this.#sources.values()].map((s) => ({
      id: s.id,
      kind: s.kind,
      plan: s.plan,
    }));
    const pipeline = this.#gst.parseLaunch(describeLaunch(sources, playback));
    this.#pipeline = pipeline;
    try {
      this.#bus = this.#gst.bus(pipeline);
      for (const source of this.#sources.values()) {
        const appsrc = this.#gst.child(pipeline, `src${source.id}`);
        source.appsrc = appsrc;
        this.#gst.makeSeekable(appsrc);
        const outputName = playback.sink === "device" ? `count${source.id}` : `sink${source.id}`;
        const output = this.#gst.child(pipeline, outputName);
        // The pipeline keeps its elements alive; the output only reads through the pointer.
        this.#gst.unref(output);
        source.output = createDecodedOutput(this.#gst, playback.sink, source.kind, output);
        if (source.kind === "audio") {
          const volume = this.#gst.child(pipeline, `vol${source.id}`);
          this.#gst.unref(volume);
          source.volume = volume;
        }
      }
      this.#applyVolume();
      this.#applyMute();
    } catch (error) {
      this.#teardown();
      throw error;
    }
  }

  /** Takes the pipeline to NULL and drops every reference (idempotent). */
  #teardown(): void {
    const pipeline = this.#pipeline;
    if (pipeline === undefined) return;
    this.#gst.setState(pipeline, GstState.Null);
    for (const source of this.#sources.values()) {
      if (source.appsrc !== undefined) this.#gst.unref(source.appsrc);
      source.appsrc = undefined;
      source.output = undefined;
      source.volume = undefined;
    }
    if (this.#bus !== undefined) this.#gst.unref(this.#bus);
    this.#bus = undefined;
    this.#pipeline = undefined;
    this.#gst.unref(pipeline);
  }

  /** Sets the GStreamer state; a FAILURE return fails the pipeline (the bus says why). */
  #setGstState(state: number): boolean {
    if (this.#pipeline === undefined) return false;
    if (this.#gst.setState(this.#pipeline, state) !== 0) return true;
    this.#drainBus();
    this.#fail(undefined, `GStreamer could not change the pipeline to state ${state}`);
    return false;
  }

  #pushFrame(source: GstSource, appsrc: Pointer, frame: MediaFrame): void {
    const bytes = clearBytes(frame, this.#options.decrypt);
    if (!(bytes instanceof Uint8Array)) {
      source.dropped++;
      this.#emit(PipelineEvents.playbackError, {
        pipelineId: this.id,
        sourceId: source.id,
        ...bytes,
      });
      return;
    }
    if (frame.codecData !== undefined) {
      const changed = {
        ...source.source,
        codecData: Buffer.from(frame.codecData).toString("base64"),
      };
      this.#gst.setAppSrcCaps(
        appsrc,
        planSource(changed as MediaSource, (factory) => this.#gst.hasElement(factory)).caps,
      );
    }
    this.#gst.pushBuffer(appsrc, bytes, frame.timestampNs, frame.durationNs);
    source.pushedEndNs = Math.max(source.pushedEndNs, frame.timestampNs + frame.durationNs);
  }

  /** Runs the poll soon: fast while anything moves, slowly while nothing does. */
  #schedulePoll(): void {
    if (this.#destroyed || this.#pipeline === undefined) return;
    const busy =
      this.#prerolling ||
      this.#state === "Playing" ||
      this.#state === "Seeking" ||
      this.#state === "SeekDone" ||
      (this.#wantPlaying && this.#state === "Paused") ||
      this.#volume.ramping;
    const delayMs = busy ? this.#tuning.pollIntervalMs : this.#tuning.idlePollIntervalMs;
    this.#poll?.cancel();
    this.#poll = this.#clock.setTimer(delayMs, () => {
      this.#poll = undefined;
      this.#tick();
    });
  }

  #tick(): void {
    if (this.#destroyed || this.#pipeline === undefined || this.#state === "Stopped") return;
    this.#drainBus();
    this.#drainOutputs();
    this.#applyVolume();
    this.#refill();
    this.#checkUnderflow();
    this.#schedulePoll();
  }

  #drainBus(): void {
    const bus = this.#bus;
    if (bus === undefined) return;
    for (let message = this.#gst.popMessage(bus); message !== undefined; ) {
      this.#onMessage(message);
      if (this.#bus === undefined) return;
      message = this.#gst.popMessage(bus);
    }
  }

  #onMessage(message: BusMessage): void {
    switch (message.type) {
      case "error":
        this.#fail(message.error);
        return;
      case "eos":
        if (this.#failed || this.#prerolling) return;
        this.#drainOutputs();
        this.#stopPositionTimer();
        this.#lastPositionNs = Math.max(this.#lastPositionNs, this.getPosition());
        this.#setState("EndOfStream");
        return;
      case "async-done":
        if (!this.#prerolling || this.#failed) return;
        this.#prerolling = false;
        this.#emit(PipelineEvents.networkState, { pipelineId: this.id, state: "Buffered" });
        this.#setState("Paused");
        if (this.#wantPlaying) this.#setGstState(GstState.Playing);
        return;
      case "state-changed":
        if (message.element !== this.#pipeline || this.#prerolling || this.#failed) return;
        if (message.newState === GstState.Playing && this.#wantPlaying) {
          this.#setState("Playing");
          this.#startPositionTimer();
        }
        return;
      case "qos": {
        const source = this.#sources.get(elementSourceId(message.element) ?? -1);
        if (source === undefined) return;
        source.dropped = Math.max(source.dropped, message.dropped);
        this.#emit(PipelineEvents.qos, {
          pipelineId: this.id,
          sourceId: source.id,
          processed: message.processed,
          dropped: message.dropped,
        });
        return;
      }
    }
  }

  /** The first ERROR wins: `playbackError`, then `Failure`; what follows is ignored. */
  #fail(error: GstErrorInfo | undefined, fallback = "GStreamer error"): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#prerolling = false;
    this.#stopPositionTimer();
    const sourceId = elementSourceId(error?.element ?? "") ?? [...this.#sources.keys()][0] ?? 0;
    const message =
      error === undefined
        ? fallback
        : `${error.element}: ${error.domain} ${error.code}: ${error.message}${error.debug === "" ? "" : ` (${error.debug})`}`;
    this.#emit(PipelineEvents.playbackError, {
      pipelineId: this.id,
      sourceId,
      error: "Generic",
      message: message.slice(0, MAX_ERROR_MESSAGE),
    });
    this.#setState("Failure");
  }

  #drainOutputs(): void {
    for (const source of this.#sources.values()) {
      const taken = source.output?.poll() ?? 0;
      if (taken === 0 || source.firstFrameSent) continue;
      source.firstFrameSent = true;
      this.#emit(PipelineEvents.firstFrame, { pipelineId: this.id, sourceId: source.id });
    }
  }

  /** Asks every source whose appsrc runs low (and has no request out) for frames. */
  #refill(): void {
    if (this.#pipeline === undefined || this.#destroyed || this.#failed) return;
    if (this.#state === "Stopped" || this.#state === "Seeking") return;
    const frameCount = this.#state === "Playing" ? PLAYING_FRAME_COUNT : PREROLL_FRAME_COUNT;
    for (const source of this.#sources.values()) {
      if (source.requestPending || source.eos || source.appsrc === undefined) continue;
      if (this.#gst.queuedBuffers(source.appsrc) >= frameCount) continue;
      source.requestPending = true;
      this.#options.listener.needData({ sourceId: source.id, kind: source.kind, frameCount });
    }
  }

  /**
   * `bufferUnderflow` (realtime only, once until new frames come): playing, the source's appsrc
   * is empty, its request is still unanswered and the position passed the last frame pushed.
   */
  #checkUnderflow(): void {
    if (this.#state !== "Playing" || this.#options.playback.clock !== "realtime") return;
    const pipeline = this.#pipeline;
    if (pipeline === undefined) return;
    for (const source of this.#sources.values()) {
      if (source.eos || source.underflowReported || !source.requestPending) continue;
      if (source.appsrc === undefined || this.#gst.queuedBuffers(source.appsrc) > 0) continue;
      if (this.getPosition() < source.pushedEndNs) continue;
      source.underflowReported = true;
      this.#emit(PipelineEvents.bufferUnderflow, { pipelineId: this.id, sourceId: source.id });
    }
  }

  #applyVolume(): void {
    const volume = this.#volume.current();
    if (volume === this.#appliedVolume && this.#pipeline !== undefined) return;
    this.#appliedVolume = volume;
    for (const source of this.#sources.values()) {
      if (source.volume !== undefined)
        this.#gst.setProperty(source.volume, "volume", String(volume));
    }
  }

  #applyMute(): void {
    for (const source of this.#sources.values()) {
      if (source.volume === undefined) continue;
      this.#gst.setProperty(source.volume, "mute", String(this.#muted || source.muted));
    }
  }

  #startPositionTimer(): void {
    this.#stopPositionTimer();
    const tick = () => {
      this.#positionTimer = this.#clock.setTimer(this.#tuning.positionIntervalMs, tick);
      this.#emit(PipelineEvents.position, { pipelineId: this.id, positionNs: this.getPosition() });
    };
    this.#positionTimer = this.#clock.setTimer(this.#tuning.positionIntervalMs, tick);
  }

  #stopPositionTimer(): void {
    this.#positionTimer?.cancel();
    this.#positionTimer = undefined;
  }

  #halt(): void {
    this.#poll?.cancel();
    this.#poll = undefined;
    this.#stopPositionTimer();
  }

  #usable(method: string): void {
    if (this.#destroyed) this.#refuse(method, "is destroyed");
    if (this.#state === "Stopped") this.#refuse(method, "is Stopped");
  }

  #refuse(method: string, why: string): never {
    throw new RialtoError("INVALID_STATE", `pipeline/${method}: pipeline ${this.id} ${why}`);
  }

  #source(method: string, sourceId: SourceId): GstSource {
    const source = this.#sources.get(sourceId);
    if (source === undefined) {
      throw new RialtoError(
        "NOT_FOUND",
        `pipeline/${method}: pipeline ${this.id} has no source ${describeValue(sourceId)}`,
      );
    }
    return source;
  }

  #emit<E extends AnyEvent>(event: E, payload: PayloadOf<E>): void {
    if (!this.#destroyed) this.#options.listener.emit(event, payload);
  }

  #setState(state: PlaybackState): void {
    if (state === this.#state) return;
    this.#state = state;
    this.#emit(PipelineEvents.playbackState, { pipelineId: this.id, state });
    this.#schedulePoll();
  }

  #void(source: GstSource): void {
    if (!source.requestPending) return;
    source.requestPending = false;
    this.#options.listener.cancelData(source.id);
  }
}
