import type { Pointer } from "bun:ffi";
import {
  type AnyEvent,
  type Easing,
  type LoadParams,
  type MediaSource,
  type PayloadOf,
  PipelineEvents,
  type PlaybackState,
  RialtoError,
  type SourceId,
  type SourceStats,
} from "@rialto/protocol";
import type { MediaFrame } from "@rialto/shm";
import type { ClockTimer, MediaClock } from "../media-clock.ts";
import type { CreatePipelineOptions, Pipeline } from "../media-engine.ts";
import {
  checkOneSourcePerType,
  checkPosition,
  checkRate,
  refuse,
  sourceOf,
} from "../pipeline-checks.ts";
import { PipelineSettings } from "../pipeline-settings.ts";
import { PlaybackInfoTimer } from "../playback-info-timer.ts";
import { PLAYING_FRAME_COUNT, PREROLL_FRAME_COUNT } from "../virtual-pipeline.ts";
import { VolumeRamp } from "../volume-ramp.ts";
import { ContactSheet } from "./contact-sheet.ts";
import { createDecodedOutput } from "./decoded-output.ts";
import { pushFrameBuffer } from "./frame-push.ts";
import {
  type BusMessage,
  type GstErrorInfo,
  type GstLibrary,
  GstState,
  StateChangeReturn,
} from "./gst-ffi.ts";
import { type GstSource, newGstSource } from "./gst-source.ts";
import {
  branchName,
  describeBranch,
  describeLaunch,
  elementSourceId,
} from "./launch-description.ts";
import { planSource } from "./source-caps.ts";

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

/** The poll interval while a first frame is awaited, ms, for at most STARTING_WINDOW_MS. */
const STARTING_POLL_MS = 1;
const STARTING_WINDOW_MS = 250;

/** Longest message of a `playbackError` event (its wire limit). */
const MAX_ERROR_MESSAGE = 1024;

/** What the engine hands each pipeline. */
export interface GstreamerPipelineDeps {
  readonly gst: GstLibrary;
  readonly clock: MediaClock;
  readonly tuning: GstreamerTuning;
  /** Where to write a PNG contact sheet of the decoded video (see `SNAPSHOT_ENV`). */
  readonly snapshotPath?: string;
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
  /**
   * After a flush at EndOfStream the bin will not post EOS again (until a flushing seek): the
   * end is then seen when every source ended and every sink drained it.
   */
  #eosFromSinks = false;
  /** Until when a first frame is polled for every millisecond (see `#schedulePoll`). */
  #startingUntilMs = 0;
  /** Health-check pings waiting for the poll loop to go round. */
  readonly #heartbeats: (() => void)[] = [];
  #destroyed = false;
  #rate = 1;
  /** The rate GStreamer plays at (seeks carry `#rate`, so they apply it too). */
  #appliedRate = 1;
  #lastPositionNs = 0;
  #appliedVolume = 1;
  #poll: ClockTimer | undefined;
  #positionTimer: ClockTimer | undefined;
  #muted = false;
  #loaded: Omit<LoadParams, "pipelineId"> | undefined;
  readonly #sheet: ContactSheet | undefined;
  readonly #playbackInfo: PlaybackInfoTimer;
  readonly settings = new PipelineSettings((name) => {
    if (name === "sync") this.#applySync();
  });

  constructor(options: CreatePipelineOptions, deps: GstreamerPipelineDeps) {
    this.id = options.pipelineId;
    this.#options = options;
    this.#gst = deps.gst;
    this.#clock = deps.clock;
    this.#tuning = deps.tuning;
    this.#volume = new VolumeRamp(deps.clock);
    this.#sheet = deps.snapshotPath === undefined ? undefined : new ContactSheet(deps.snapshotPath);
    this.#playbackInfo = new PlaybackInfoTimer(deps.clock, () =>
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
    if (this.#pipeline !== undefined) this.#refuse("load", "is past allSourcesAttached");
    this.#loaded = params;
  }

  attachSource(source: MediaSource): SourceId {
    this.#usable("attachSource");
    // Past allSourcesAttached only an audio source may come, in place of a removed one (an audio
    // codec or language switch): its branch joins the running pipeline at the playhead.
    if (this.#pipeline !== undefined && source.type !== "audio") {
      this.#refuse("attachSource", "is past allSourcesAttached (only audio may be attached now)");
    }
    if (source.type === "subtitle") {
      throw new RialtoError(
        "INVALID_ARGUMENT",
        `pipeline/attachSource: the GStreamer engine renders no subtitles ("${source.mimeType}")`,
      );
    }
    checkOneSourcePerType(this.#sources.values(), this.id, source.type);
    const plan = planSource(source, (factory) => this.#gst.hasElement(factory));
    const added = newGstSource(this.#nextSourceId, source, plan);
    if (this.#pipeline !== undefined) {
      this.#installBranch(added, this.#parseBranch(added));
      this.#applySettings();
    }
    this.#nextSourceId++;
    this.#sources.set(added.id, added);
    // Its first request comes from the next poll, after this call's reply: the app knows the id.
    this.#schedulePoll();
    return added.id;
  }

  removeSource(sourceId: SourceId): void {
    this.#usable("removeSource");
    const source = this.#source("removeSource", sourceId);
    this.#void(source);
    // Its branch leaves the running pipeline; the others play on.
    this.#removeBranch(source);
    this.#sources.delete(sourceId);
    this.settings.forgetSource(sourceId);
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
    const plan = planSource(source, (factory) => this.#gst.hasElement(factory));
    const appsrc = existing.appsrc;
    if (appsrc === undefined || plan.decoder === existing.plan.decoder) {
      // Same decoder (or no pipeline yet): new caps (codec data, rate, channels) on the appsrc;
      // the frames it holds play out first.
      if (appsrc !== undefined) this.#gst.setAppSrcCaps(appsrc, plan.caps);
      existing.source = source;
      existing.plan = plan;
      return existing.id;
    }
    // Another decoder: the source gets a new branch at the playhead. What the old decoder holds
    // is dropped (the new one cannot read it); the source is asked for data from the playhead.
    const bin = this.#parseBranch({ ...existing, plan });
    this.#void(existing);
    existing.output?.poll();
    this.#removeBranch(existing);
    existing.source = source;
    existing.plan = plan;
    this.#installBranch(existing, bin);
    this.#applySettings();
    // The first request for the new codec comes from the next poll, after this call's reply: an
    // app answers it with the new codec's samples, never the old one's.
    this.#schedulePoll();
    return existing.id;
  }

  setSourcePosition(
    sourceId: SourceId,
    positionNs: number,
    resetTime: boolean,
    appliedRate: number,
    _stopPositionNs?: number,
  ): void {
    this.#usable("setSourcePosition");
    const source = this.#source("setSourcePosition", sourceId);
    checkPosition("setSourcePosition", positionNs);
    this.#clearOffset(source);
    // A flushing seek of this appsrc alone: its new segment starts at the position (earlier
    // frames are decoded but clipped); it also ends an end of stream.
    if (source.appsrc !== undefined) this.#gst.seek(source.appsrc, positionNs, appliedRate);
    source.eos = false;
    source.pushedEndNs = positionNs;
    if (resetTime) this.#lastPositionNs = positionNs;
  }

  renderFrame(): void {
    this.#usable("renderFrame");
    // A paused GStreamer pipeline has already rendered its preroll frame on the video sink.
    if (this.#state !== "Paused") this.#refuse("renderFrame", `is ${this.#state}, not Paused`);
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
      this.#startingUntilMs = this.#clock.now() + STARTING_WINDOW_MS;
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
    checkRate(rate);
    this.#rate = rate;
    if (this.#state === "Playing") this.#applyRate();
  }

  setPosition(positionNs: number): void {
    this.#usable("setPosition");
    checkPosition("setPosition", positionNs);
    const pipeline = this.#pipeline;
    if (pipeline === undefined) this.#refuse("setPosition", "has not had allSourcesAttached");
    this.#stopPositionTimer();
    this.#setState("Seeking");
    // A flushing seek resets the bin's EOS: it posts the next one itself.
    this.#eosFromSinks = false;
    this.#restartSources(positionNs, false);
    // A flushing seek empties every appsrc and the decoders before it returns.
    this.#appliedRate = this.#rate;
    if (!this.#gst.seek(pipeline, positionNs, this.#rate)) {
      this.#fail(undefined, `GStreamer refused the seek to ${positionNs} ns`);
      return;
    }
    this.#lastPositionNs = positionNs;
    this.#setState("SeekDone");
    this.#emit(PipelineEvents.position, { pipelineId: this.id, positionNs });
    this.#prerolling = true;
    this.#startingUntilMs = this.#clock.now() + STARTING_WINDOW_MS;
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
    if (resetTime && this.#state === "EndOfStream" && this.#pipeline !== undefined) {
      this.#restart(source);
      return;
    }
    this.#void(source);
    if (source.appsrc !== undefined) {
      // An appsrc that ended refuses data until it is seeked; a flushing seek of that appsrc
      // alone is its flush then (from 0 with resetTime, else from the playhead).
      if (source.eos) this.#gst.seek(source.appsrc, resetTime ? 0 : this.getPosition(), this.#rate);
      else this.#gst.flush(source.appsrc, resetTime);
    }
    source.eos = false;
    source.firstFrameSent = false;
    // Until new frames come, an empty appsrc is the flush, not a stall (the app refills it).
    source.underflowReported = true;
    this.#emit(PipelineEvents.sourceFlushed, { pipelineId: this.id, sourceId });
    // The flushed branch has data to come: EndOfStream is over (GStreamer stayed in PLAYING).
    // The bin posts EOS once per flushing seek, so the next end is read from the sinks.
    if (this.#state === "EndOfStream") {
      this.#eosFromSinks = true;
      this.#setState("Playing");
      this.#startPositionTimer();
    }
    this.#refill();
  }

  /**
   * A flush with resetTime once every source ended: the time restarts at 0 for the whole
   * pipeline (a flushing seek of it, so that the clock and every sink start over together; an
   * appsrc seeked alone would have its frames rendered at once, late on the old running time).
   * Every source is asked for data again; one the app did not flush answers end of stream.
   */
  #restart(flushed: GstSource): void {
    const pipeline = this.#pipeline as Pointer;
    this.#eosFromSinks = false;
    this.#restartSources(0, true);
    if (!this.#gst.seek(pipeline, 0, this.#rate)) {
      this.#fail(undefined, "GStreamer refused the seek to 0 of a flush with resetTime");
      return;
    }
    this.#appliedRate = this.#rate;
    this.#lastPositionNs = 0;
    this.#emit(PipelineEvents.sourceFlushed, { pipelineId: this.id, sourceId: flushed.id });
    this.#startingUntilMs = this.#clock.now() + STARTING_WINDOW_MS;
    if (this.#wantPlaying) {
      this.#setState("Playing");
      this.#startPositionTimer();
    } else {
      this.#setState("Paused");
    }
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
    // Through the drain that reports first frames, so that a read here never hides one.
    this.#drainOutputs();
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

  heartbeat(): Promise<void> {
    const { promise, resolve } = Promise.withResolvers<void>();
    // Answered by the poll loop that drives the pipeline, or by the clock while there is none.
    if (this.#poll === undefined) this.#clock.setTimer(0, resolve);
    else this.#heartbeats.push(resolve);
    return promise;
  }

  /** Builds the GstPipeline for the attached sources and takes references to its elements. */
  #build(): void {
    const playback = this.#options.playback;
    const sources = [...this.#sources.values()];
    const pipeline = this.#gst.parseLaunch(describeLaunch(sources, playback));
    this.#pipeline = pipeline;
    try {
      this.#bus = this.#gst.bus(pipeline);
      for (const source of sources) this.#takeElements(source, pipeline);
      // Settings made before the pipeline existed apply to its new elements.
      this.#applySettings();
    } catch (error) {
      this.#teardown();
      throw error;
    }
  }

  /** References to the elements of a source's branch in `container` (the pipeline or its bin). */
  #takeElements(source: GstSource, container: Pointer): void {
    const { sink } = this.#options.playback;
    const appsrc = this.#gst.child(container, `src${source.id}`);
    source.appsrc = appsrc;
    this.#gst.makeSeekable(appsrc);
    // The pipeline keeps its elements alive: only the appsrc's reference is held.
    const outputName = sink === "device" ? `count${source.id}` : `sink${source.id}`;
    const output = this.#gst.child(container, outputName);
    this.#gst.unref(output);
    if (sink !== "device") source.appsink = output;
    if (source.output === undefined) {
      source.output = createDecodedOutput(this.#gst, sink, source.kind, output, this.#sheet);
    } else {
      source.output.retarget(output);
    }
    if (source.kind === "audio") {
      const volume = this.#gst.child(container, `vol${source.id}`);
      this.#gst.unref(volume);
      source.volume = volume;
    }
  }

  /**
   * A source's branch for the built pipeline, as a bin of its own not yet in it (throws when it
   * cannot be built). The bin prerolls on its own: the running pipeline never waits for it.
   */
  #parseBranch(source: Pick<GstSource, "id" | "kind" | "plan">): Pointer {
    const description = describeBranch(source, this.#options.playback);
    return this.#gst.parseBin(branchName(source.id), description, true);
  }

  /**
   * Puts a parsed branch into the running pipeline at the playhead: its first segment starts at
   * the position (the appsrc keeps the seek until it starts) and its running time is offset by
   * the pipeline's, so that its frames line up with the other sources' on the clock.
   */
  #installBranch(source: GstSource, bin: Pointer): void {
    const pipeline = this.#pipeline as Pointer;
    this.#takeElements(source, bin);
    const appsrc = source.appsrc as Pointer;
    const positionNs = this.getPosition();
    const runningNs = this.#gst.runningTime(pipeline, this.#state === "Playing");
    this.#gst.seek(appsrc, positionNs, this.#appliedRate, false);
    this.#gst.setSourceOffset(appsrc, runningNs);
    source.live = true;
    source.offset = true;
    source.eos = false;
    source.firstFrameSent = false;
    // Until its first frames come, its empty appsrc is its start, not a stall.
    source.underflowReported = true;
    source.pushedEndNs = positionNs;
    this.#gst.addToBin(pipeline, bin, true);
  }

  /**
   * Every source after a flushing seek of the pipeline to `positionNs`: request void, end of
   * stream over, first frame and underflow (unless `quiet`) to be reported again.
   */
  #restartSources(positionNs: number, quiet: boolean): void {
    for (const source of this.#sources.values()) {
      this.#void(source);
      source.eos = false;
      source.firstFrameSent = false;
      source.underflowReported = quiet;
      source.pushedEndNs = positionNs;
      this.#clearOffset(source);
    }
  }

  /** A seek restarts the running times: a live-added branch's offset is over. */
  #clearOffset(source: GstSource): void {
    if (!source.offset || source.appsrc === undefined) return;
    this.#gst.setSourceOffset(source.appsrc, 0);
    source.offset = false;
  }

  /** Takes a source's branch out of the pipeline (no-op before the pipeline is built). */
  #removeBranch(source: GstSource): void {
    const pipeline = this.#pipeline;
    const appsrc = source.appsrc;
    if (pipeline === undefined || appsrc === undefined) return;
    if (source.live) this.#gst.removeFromBin(pipeline, branchName(source.id));
    else this.#gst.removeChain(pipeline, appsrc);
    this.#gst.unref(appsrc);
    source.appsrc = undefined;
    source.appsink = undefined;
    source.volume = undefined;
    source.live = false;
    source.offset = false;
  }

  /** Volume, mute and sync on the elements of every branch (after one was built). */
  #applySettings(): void {
    this.#applyVolume(true);
    this.#applyMute();
    this.#applySync();
  }

  /** Writes the contact sheet, if one is kept; a failure to write is not the playback's. */
  #writeSheet(): void {
    try {
      this.#sheet?.write();
    } catch {
      // A debugging aid: an unwritable path must not fail or stop the playback.
    }
  }

  /** Takes the pipeline to NULL and drops every reference (idempotent). */
  #teardown(): void {
    const pipeline = this.#pipeline;
    if (pipeline === undefined) return;
    this.#writeSheet();
    this.#gst.setState(pipeline, GstState.Null);
    for (const source of this.#sources.values()) {
      if (source.appsrc !== undefined) this.#gst.unref(source.appsrc);
      source.appsrc = undefined;
      source.output = undefined;
      source.volume = undefined;
      source.appsink = undefined;
    }
    if (this.#bus !== undefined) this.#gst.unref(this.#bus);
    this.#bus = undefined;
    this.#pipeline = undefined;
    this.#gst.releasePipeline(pipeline);
  }

  /** Sets the GStreamer state; a FAILURE return fails the pipeline (the bus says why). */
  #setGstState(state: number): boolean {
    if (this.#pipeline === undefined) return false;
    if (this.#gst.setState(this.#pipeline, state) !== StateChangeReturn.Failure) return true;
    this.#drainBus();
    this.#fail(undefined, `GStreamer could not change the pipeline to state ${state}`);
    return false;
  }

  #pushFrame(source: GstSource, appsrc: Pointer, frame: MediaFrame): void {
    if (frame.codecData !== undefined) {
      const codecData = Buffer.from(frame.codecData).toString("base64");
      const changed = { ...source.source, codecData } as MediaSource;
      this.#gst.setAppSrcCaps(appsrc, planSource(changed, (f) => this.#gst.hasElement(f)).caps);
    }
    const failure = pushFrameBuffer(this.#gst, appsrc, frame, this.#options.decrypt);
    if (failure !== undefined) {
      source.dropped++;
      this.#emit(PipelineEvents.playbackError, {
        pipelineId: this.id,
        sourceId: source.id,
        ...failure,
      });
      return;
    }
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
    // Waiting for a first frame (after play, a seek, the first preroll), each poll may be the one
    // that sees it: poll every millisecond then, for a bounded time.
    const starting =
      this.#clock.now() < this.#startingUntilMs &&
      [...this.#sources.values()].some((s) => !s.firstFrameSent && !s.eos);
    const delayMs = starting
      ? STARTING_POLL_MS
      : busy
        ? this.#tuning.pollIntervalMs
        : this.#tuning.idlePollIntervalMs;
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
    if (this.#eosFromSinks && this.#state === "Playing" && this.#sinksEnded()) this.#endOfStream();
    this.#applyVolume();
    this.#refill();
    this.#checkUnderflow();
    this.#schedulePoll();
    for (const answer of this.#heartbeats.splice(0)) answer();
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
        this.#endOfStream();
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
          this.#applyRate();
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

  #endOfStream(): void {
    this.#drainOutputs();
    this.#stopPositionTimer();
    this.#lastPositionNs = Math.max(this.#lastPositionNs, this.getPosition());
    this.#writeSheet();
    this.#setState("EndOfStream");
  }

  /** Every source ended and its sink drained it (device sinks cannot tell: never). */
  #sinksEnded(): boolean {
    return [...this.#sources.values()].every((s) => s.eos && s.output?.ended() === true);
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
    const playing = this.#state === "Playing";
    const frameCount = playing ? PLAYING_FRAME_COUNT : PREROLL_FRAME_COUNT;
    // Playing, up to two requests' worth stay queued: the next request goes out as soon as one
    // is pushed, so feeding is paced by the app's answers, not by the poll (bench/gst-playback).
    const lowWater = playing ? 2 * PLAYING_FRAME_COUNT : PREROLL_FRAME_COUNT;
    for (const source of this.#sources.values()) {
      if (source.requestPending || source.eos || source.appsrc === undefined) continue;
      if (this.#gst.queuedBuffers(source.appsrc) >= lowWater) continue;
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

  /**
   * Applies the rate while PLAYING (elsewhere it waits for PLAYING: a non-flushing seek on a
   * paused pipeline waits for the streaming thread that preroll blocked, and would block the JS
   * thread with it). An instant rate change keeps the data flowing; where an element refuses it,
   * a flushing seek to the current position applies the rate instead.
   */
  #applyRate(): void {
    const pipeline = this.#pipeline;
    if (pipeline === undefined || this.#appliedRate === this.#rate) return;
    this.#appliedRate = this.#rate;
    if (!this.#gst.instantRate(pipeline, this.#rate)) this.setPosition(this.getPosition());
  }

  /** `settings.sync` false: the appsinks stop syncing to the clock (as fast as decoded). */
  #applySync(): void {
    const sync = this.settings.get("sync") && this.#options.playback.clock === "realtime";
    for (const source of this.#sources.values()) {
      if (source.appsink !== undefined) this.#gst.setProperty(source.appsink, "sync", String(sync));
    }
  }

  /** Sets the volume elements to the current volume; `force` when they were just built. */
  #applyVolume(force = false): void {
    const volume = this.#volume.current();
    if (volume === this.#appliedVolume && !force) return;
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
    this.#playbackInfo.start();
    const tick = () => {
      this.#positionTimer = this.#clock.setTimer(this.#tuning.positionIntervalMs, tick);
      this.#emit(PipelineEvents.position, { pipelineId: this.id, positionNs: this.getPosition() });
    };
    this.#positionTimer = this.#clock.setTimer(this.#tuning.positionIntervalMs, tick);
  }

  #stopPositionTimer(): void {
    this.#positionTimer?.cancel();
    this.#positionTimer = undefined;
    this.#playbackInfo.stop();
  }

  #halt(): void {
    this.#poll?.cancel();
    this.#poll = undefined;
    // No loop goes round any more: nothing of it can be wedged.
    for (const answer of this.#heartbeats.splice(0)) answer();
    this.#stopPositionTimer();
  }

  #usable(method: string): void {
    if (this.#destroyed) this.#refuse(method, "is destroyed");
    if (this.#state === "Stopped") this.#refuse(method, "is Stopped");
  }

  #refuse(method: string, why: string): never {
    refuse(this.id, method, why);
  }

  #source(method: string, sourceId: SourceId): GstSource {
    return sourceOf(this.#sources, this.id, method, sourceId);
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
