import {
  type MediaSource,
  type PlaybackOptions,
  type PlaybackState,
  type PlaybackStateEvent,
  RialtoError,
  type SourceId,
} from "@rialto/protocol";
import type { MediaFrame, MediaKind } from "@rialto/shm";
import type { DataRequest, FrameDecryptor, Pipeline } from "../media-engine.ts";
import { createVirtualEngine } from "../virtual-engine.ts";
import type { VirtualPipelineTuning } from "../virtual-pipeline.ts";
import { ManualClock } from "./manual-clock.ts";

/** One event the pipeline emitted, already checked against its wire schema. */
export interface RecordedEvent {
  readonly name: string;
  readonly payload: Record<string, unknown>;
}

/** Milliseconds to nanoseconds. */
export const ms = (value: number): number => value * 1_000_000;

/** The wire description of a source of `kind` for `attachSource`. */
export function sourceOf(kind: MediaKind): MediaSource {
  if (kind === "video") return { type: "video", mimeType: "video/h264" };
  if (kind === "audio") return { type: "audio", mimeType: "audio/mp4" };
  return { type: "subtitle", mimeType: "text/vtt" };
}

/**
 * `count` synthetic frames of one source, `durationNs` apart from `startNs`, each with distinct
 * bytes (so a checksum notices a missing, extra or reordered frame).
 */
export function makeFrames(
  kind: MediaKind,
  sourceId: SourceId,
  count: number,
  { startNs = 0, durationNs = ms(40) }: { startNs?: number; durationNs?: number } = {},
): MediaFrame[] {
  return Array.from({ length: count }, (_, i) => {
    const timestampNs = startNs + i * durationNs;
    const data = Uint8Array.from(
      { length: 32 + (i % 7) },
      (_, b) => (timestampNs / 1e6 + b) & 0xff,
    );
    const base = { sourceId, timestampNs, durationNs, data };
    if (kind === "video") return { kind, ...base, width: 320, height: 240 };
    if (kind === "audio") return { kind, ...base, sampleRate: 48_000, channels: 2 };
    return { kind, ...base };
  });
}

/** SHA-256 (hex) of the frames' bytes in the order given. */
export function sha256Of(frames: readonly MediaFrame[]): string {
  const hasher = new Bun.CryptoHasher("sha256");
  for (const frame of frames) hasher.update(frame.data);
  return hasher.digest("hex");
}

/** The RialtoError `action` throws; no throw, or another error, fails the test. */
export function rialtoErrorOf(action: () => unknown): RialtoError {
  try {
    action();
  } catch (error) {
    if (error instanceof RialtoError) return error;
    throw error;
  }
  throw new Error("expected the call to throw a RialtoError");
}

/**
 * A virtual pipeline on a manual clock, with its events and data requests recorded and a
 * scripted "app" that answers requests from per-source frame lists.
 */
export class PipelineHarness {
  readonly clock = new ManualClock();
  readonly events: RecordedEvent[] = [];
  /** Every data request, in order. */
  readonly requests: DataRequest[] = [];
  /** Every cancelled request's source, in order. */
  readonly cancelled: SourceId[] = [];
  readonly pipeline: Pipeline;
  readonly #pending = new Map<SourceId, DataRequest>();
  readonly #scripts = new Map<SourceId, MediaFrame[]>();

  constructor(
    playback: PlaybackOptions,
    options: { tuning?: Partial<VirtualPipelineTuning>; decrypt?: FrameDecryptor } = {},
  ) {
    const engine = createVirtualEngine({ clock: this.clock, tuning: options.tuning });
    this.pipeline = engine.createPipeline({
      pipelineId: 7,
      playback,
      decrypt: options.decrypt,
      listener: {
        emit: (event, payload) => {
          event.payload.assert(payload, event.name);
          this.events.push({ name: event.name, payload: payload as Record<string, unknown> });
        },
        needData: (request) => {
          if (this.#pending.has(request.sourceId)) {
            throw new Error(`a second request for source ${request.sourceId} while one is pending`);
          }
          this.#pending.set(request.sourceId, request);
          this.requests.push(request);
        },
        cancelData: (sourceId) => {
          this.#pending.delete(sourceId);
          this.cancelled.push(sourceId);
        },
      },
    });
  }

  /** Attaches one source per kind, signals allSourcesAttached; returns the ids by kind. */
  attach(...kinds: MediaKind[]): SourceId[] {
    const ids = kinds.map((kind) => this.pipeline.attachSource(sourceOf(kind)));
    this.pipeline.allSourcesAttached();
    return ids;
  }

  /** The outstanding request of a source. */
  pending(sourceId: SourceId): DataRequest | undefined {
    return this.#pending.get(sourceId);
  }

  /** Frames the scripted app hands out for `sourceId`, then end of stream. */
  script(sourceId: SourceId, frames: readonly MediaFrame[]): void {
    this.#scripts.set(sourceId, [...frames]);
  }

  /** Answers the source's outstanding request with `frames` (as the data side would). */
  push(sourceId: SourceId, frames: readonly MediaFrame[]): void {
    this.#pending.delete(sourceId);
    this.pipeline.pushFrames(sourceId, frames);
  }

  /** Answers the source's outstanding request with end of stream. */
  end(sourceId: SourceId): void {
    this.#pending.delete(sourceId);
    this.pipeline.endOfStream(sourceId);
  }

  /** Answers every outstanding request of a scripted source; returns how many it answered. */
  serve(): number {
    let answered = 0;
    for (const [sourceId, request] of [...this.#pending]) {
      const script = this.#scripts.get(sourceId);
      if (script === undefined) continue;
      answered++;
      if (script.length === 0) this.end(sourceId);
      else {
        this.push(sourceId, script.splice(0, request.frameCount));
      }
    }
    return answered;
  }

  /** Serves and runs due timers until the pipeline settles (freerun playback to its end). */
  runUntilSettled(maxRounds = 10_000): void {
    for (let round = 0; round < maxRounds; round++) {
      const answered = this.serve();
      const due = this.clock.nextTimerAt === this.clock.now();
      if (answered === 0 && !due) return;
      this.clock.advance(0);
    }
    throw new Error(`the pipeline did not settle in ${maxRounds} rounds`);
  }

  /** Payloads of the events of one wire name. */
  named(name: string): Record<string, unknown>[] {
    return this.events.filter((e) => e.name === name).map((e) => e.payload);
  }

  /** Every playback state reported, in order. */
  states(): PlaybackState[] {
    return this.named("pipeline/playbackState").map((p) => (p as PlaybackStateEvent).state);
  }
}
