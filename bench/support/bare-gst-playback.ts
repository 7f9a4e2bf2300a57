import type { Pointer } from "bun:ffi";
import { toWireSource } from "@rialto/client/testing";
import type { MediaSource, PlaybackOptions } from "@rialto/protocol";
import {
  describeLaunch,
  type GstLibrary,
  GstState,
  loadGstreamer,
  planSource,
} from "@rialto/session-server/testing";
import { sourceConfigOf } from "../../apps/demo-app/src/clip-player.ts";
import type {
  DemuxedMovie,
  DemuxedSample,
  DemuxedTrack,
} from "../../apps/demo-app/src/mp4/index.ts";
import { SampleFeeder } from "../../apps/demo-app/src/sample-feeder.ts";
import { drained, takeSample } from "./appsink-wait.ts";

/** Frames pushed per source while prerolling (the engine's request size then). */
const PREROLL_FRAMES = 3;
/** Frames kept queued per source until the first frame shows (the engine's playing request). */
const AHEAD_FRAMES = 24;
/** How long one blocking pull waits before the loop looks at the other sinks and the bus. */
const PULL_SLICE_NS = 1_000_000;
/** Generous on a loaded 2-core machine; a stuck pipeline still fails the run. */
const DEADLINE_MS = 60_000;

/** The sample the demo's feeder restarts `track` from after a seek to `positionNs`. */
function firstSampleAt(track: DemuxedTrack, positionNs: number): number {
  const unused = () => {
    throw new Error("not fed");
  };
  const feeder = new SampleFeeder(
    { addSegment: unused, haveData: unused },
    0,
    track,
    undefined,
    "decode",
  );
  feeder.seek(positionNs);
  return feeder.fed;
}

/** One source of the bare pipeline: its track, appsrc, appsink and what was pushed and pulled. */
interface BareSource {
  readonly track: DemuxedTrack;
  readonly wire: MediaSource;
  readonly appsrc: Pointer;
  readonly appsink: Pointer;
  /** Index of the next sample to push (decode order). */
  next: number;
  /** Samples pulled from the appsink since the last start or seek. */
  pulled: number;
}

/**
 * The engine's GStreamer pipeline with no Rialto around it, in this process: the launch
 * description, caps and decoders the session server would build for `movie` (same
 * `describeLaunch`, `planSource`, `GstLibrary` and buffer copies), fed straight from the demuxed
 * samples (no socket, no shared memory, no request cycle) and drained by blocking pulls on the
 * JS thread. Disposing takes it to NULL and drops it.
 */
export class BareGstPlayback implements Disposable {
  readonly #gst: GstLibrary;
  readonly #pipeline: Pointer;
  readonly #bus: Pointer;
  readonly #sources: BareSource[] = [];
  readonly #video: BareSource;

  private constructor(gst: GstLibrary, movie: DemuxedMovie, playback: PlaybackOptions) {
    this.#gst = gst;
    const plans = movie.tracks.map((track, index) => {
      const wire = toWireSource(sourceConfigOf(track));
      return {
        id: index + 1,
        kind: track.type,
        track,
        wire,
        plan: planSource(wire, (factory) => gst.hasElement(factory)),
      };
    });
    this.#pipeline = gst.parseLaunch(describeLaunch(plans, playback));
    this.#bus = gst.bus(this.#pipeline);
    for (const { id, track, wire } of plans) {
      const appsrc = gst.child(this.#pipeline, `src${id}`);
      gst.makeSeekable(appsrc);
      const appsink = gst.child(this.#pipeline, `sink${id}`);
      this.#sources.push({ track, wire, appsrc, appsink, next: 0, pulled: 0 });
    }
    const video = this.#sources.find((s) => s.track.type === "video");
    if (video === undefined) throw new Error("the bench clip has no video track");
    this.#video = video;
  }

  /**
   * Builds the pipeline for `movie` (playback `sink` must be `null` or `checksum`: the branch
   * ends in an appsink) and prerolls it as the engine does: PAUSED, 3 frames per source, more
   * whenever an appsrc runs below that, until ASYNC_DONE.
   */
  static async preroll(movie: DemuxedMovie, playback: PlaybackOptions): Promise<BareGstPlayback> {
    const bare = new BareGstPlayback(loadGstreamer(), movie, playback);
    try {
      bare.#gst.setState(bare.#pipeline, GstState.Paused);
      const deadline = performance.now() + DEADLINE_MS;
      for (;;) {
        for (const source of bare.#sources) bare.#topUp(source, PREROLL_FRAMES);
        if (bare.#popUntil("async-done")) return bare;
        if (performance.now() > deadline) throw new Error("bare pipeline did not preroll");
        await Bun.sleep(1);
      }
    } catch (error) {
      bare[Symbol.dispose]();
      throw error;
    }
  }

  /**
   * Sets PLAYING, keeps 24 samples per source queued and blocks until the first decoded video
   * sample is pulled; then pushes every remaining sample (and end of stream) and pulls until
   * EOS. Returns both times in ns, measured from the call.
   */
  playToEnd(): { firstFrameNs: number; endNs: number } {
    const start = Bun.nanoseconds();
    this.#gst.setState(this.#pipeline, GstState.Playing);
    return this.#runToEnd(start);
  }

  /**
   * A flushing, accurate seek to `positionNs` (from EOS, still PLAYING), then the samples the
   * demo's feeders send after a seek (video from the keyframe at or before it, audio from the
   * sample holding it), as {@link playToEnd} pushes them; times as there.
   */
  seekToEnd(positionNs: number): { firstFrameNs: number; endNs: number } {
    const start = Bun.nanoseconds();
    if (!this.#gst.seek(this.#pipeline, positionNs, 1)) throw new Error("bare seek refused");
    for (const source of this.#sources) {
      source.next = firstSampleAt(source.track, positionNs);
      source.pulled = 0;
    }
    return this.#runToEnd(start);
  }

  /** Samples pulled per track type since the last start or seek. */
  pulled(): Record<DemuxedTrack["type"], number> {
    const counts = { audio: 0, video: 0 };
    for (const source of this.#sources) counts[source.track.type] += source.pulled;
    return counts;
  }

  [Symbol.dispose](): void {
    this.#gst.setState(this.#pipeline, GstState.Null);
    for (const source of this.#sources) {
      this.#gst.unref(source.appsrc);
      this.#gst.unref(source.appsink);
    }
    this.#gst.unref(this.#bus);
    this.#gst.unref(this.#pipeline);
  }

  #runToEnd(start: number): { firstFrameNs: number; endNs: number } {
    const deadline = performance.now() + DEADLINE_MS;
    // Until the first frame shows, each appsrc is kept a playing request's worth ahead.
    while (this.#video.pulled === 0) {
      for (const source of this.#sources) this.#topUp(source, AHEAD_FRAMES);
      if (takeSample(this.#video.appsink, PULL_SLICE_NS)) this.#video.pulled++;
      this.#popUntil("eos");
      if (performance.now() > deadline) throw new Error("bare pipeline gave no frame");
    }
    const firstFrameNs = Bun.nanoseconds() - start;
    for (const source of this.#sources) {
      this.#push(source, source.track.samples.length);
      this.#gst.endOfStream(source.appsrc);
    }
    while (!this.#popUntil("eos")) {
      this.#pullRound();
      if (performance.now() > deadline) throw new Error("bare pipeline did not reach EOS");
    }
    for (const source of this.#sources) while (takeSample(source.appsink, 0)) source.pulled++;
    return { firstFrameNs, endNs: Bun.nanoseconds() - start };
  }

  /** Pushes samples of `source` until its appsrc holds `frames` (or none are left). */
  #topUp(source: BareSource, frames: number): void {
    const queued = this.#gst.queuedBuffers(source.appsrc);
    if (queued < frames) this.#push(source, frames - queued);
  }

  /** One blocking pull on the first sink not drained; every sink emptied without waiting. */
  #pullRound(): void {
    const waitOn = this.#sources.find((s) => !drained(s.appsink));
    if (waitOn !== undefined && takeSample(waitOn.appsink, PULL_SLICE_NS)) waitOn.pulled++;
    for (const source of this.#sources) while (takeSample(source.appsink, 0)) source.pulled++;
  }

  /** Pushes up to `count` more samples of `source` (0: none). */
  #push(source: BareSource, count: number): void {
    const end = Math.min(source.track.samples.length, source.next + count);
    for (; source.next < end; source.next++) {
      const sample = source.track.samples[source.next] as DemuxedSample;
      if (sample.codecData !== undefined) this.#changeCodecData(source, sample.codecData);
      const { data } = sample;
      this.#gst.pushBuffer(
        source.appsrc,
        data.byteLength,
        sample.timestampNs,
        sample.durationNs,
        data,
      );
    }
  }

  #changeCodecData(source: BareSource, codecData: Uint8Array): void {
    const changed = { ...source.wire, codecData: codecData.toBase64() } as MediaSource;
    const plan = planSource(changed, (factory) => this.#gst.hasElement(factory));
    this.#gst.setAppSrcCaps(source.appsrc, plan.caps);
  }

  /** Reads the bus; true once `type` was seen; throws on ERROR. */
  #popUntil(type: "async-done" | "eos"): boolean {
    for (let message = this.#gst.popMessage(this.#bus); message !== undefined; ) {
      if (message.type === "error") {
        throw new Error(`bare pipeline: ${message.error.element}: ${message.error.message}`);
      }
      if (message.type === type) return true;
      message = this.#gst.popMessage(this.#bus);
    }
    return false;
  }
}
