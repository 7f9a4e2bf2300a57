import {
  type CreatePipelineParams,
  DEFAULT_PLAYBACK_OPTIONS,
  PipelineMethods,
  type PipelineStatsReport,
  type PlaybackOptions,
  RialtoError,
  type SourceId,
  toRialtoError,
} from "@rialto/protocol";
import type { MediaKind } from "@rialto/shm";
import type { AvMemory } from "../av-memory.ts";
import type { SessionServerLogger } from "../logger.ts";
import type { MediaClock } from "../media/media-clock.ts";
import type { FrameDecryptor, MediaEngine } from "../media/media-engine.ts";
import { PipelineService } from "../media/pipeline-service.ts";
import { selectEngine } from "../media/select-engine.ts";
import type { Client } from "./client-state.ts";
import { MAX_HANDLE } from "./handle-allocator.ts";
import { pipelineStatsReport } from "./pipeline-stats.ts";

/** One media pipeline a client created. */
export interface PipelineRecord {
  /** The id the client names it by (unique in this session server). */
  readonly id: number;
  /** The AV-buffer playback partition it uses: 0 .. maxPlaybackSessions - 1. */
  readonly partition: number;
  /** The video requirements it was created with, pixels. */
  readonly maxWidth: number | undefined;
  readonly maxHeight: number | undefined;
}

/** What a {@link PipelineBook} is built from. */
export interface PipelineBookOptions {
  readonly logger: SessionServerLogger;
  /** Pipelines allowed at once over every client (one AV playback partition each). */
  readonly maxPlaybackSessions: number;
  /** SetConfiguration's `playback` (clock, sink); default `DEFAULT_PLAYBACK_OPTIONS`. */
  readonly playback?: PlaybackOptions;
  /** The AV shared memory while the app is Active. */
  avMemory(): AvMemory | undefined;
  /** The back end; default the one `playback.engine` names, on `clock`. */
  readonly engine?: MediaEngine;
  /** Timers of the needMediaData back-off; default the system clock. */
  readonly clock?: MediaClock;
  /**
   * Decrypts encrypted frames of every pipeline (the media-keys side resolves the frame's key
   * session); without it an encrypted frame is dropped with `playbackError`.
   */
  readonly decrypt?: FrameDecryptor;
}

/** One live pipeline: the client that created it, its record and its data side. */
interface Session {
  readonly owner: Client;
  readonly record: PipelineRecord;
  readonly service: PipelineService;
  /** Its attached sources and their kinds (for the stats report). */
  readonly sources: Map<SourceId, MediaKind>;
}

/**
 * The app's media pipelines (SPEC 5, 8, 9), the one registry of them: at most
 * `maxPlaybackSessions` over all its clients, each holding the lowest free playback partition
 * of the AV memory and a {@link PipelineService} on the configured engine, whose events go to
 * the owning client as sequenced retry-RPC events. Pipelines die with `pipeline/destroy`, with
 * their client's resources (the client going Inactive, its grace period ending) and when the
 * app goes Inactive: then the owner is sent `playbackState Stopped` first, so it learns its
 * pipeline is gone even before the application state follows.
 */
export class PipelineBook {
  readonly #options: PipelineBookOptions;
  readonly #engine: MediaEngine;
  readonly #playback: PlaybackOptions;
  readonly #sessions = new Map<number, Session>();
  /** Which playback partitions are taken. */
  readonly #partitions: boolean[];
  #nextId = 1;
  #running = true;

  constructor(options: PipelineBookOptions) {
    this.#options = options;
    this.#playback = options.playback ?? DEFAULT_PLAYBACK_OPTIONS;
    this.#engine = options.engine ?? selectEngine(this.#playback, options.clock);
    this.#partitions = Array.from({ length: options.maxPlaybackSessions }, () => false);
  }

  /** The engine every pipeline of the app plays on (capability answers come from it). */
  get engine(): MediaEngine {
    return this.#engine;
  }

  /** Pipelines alive now, over every client. */
  get size(): number {
    return this.#sessions.size;
  }

  /** Each live pipeline's heartbeat (engines without one are left out: taken as healthy). */
  heartbeats(): { pipelineId: number; beat: () => Promise<void> }[] {
    const beats: { pipelineId: number; beat: () => Promise<void> }[] = [];
    for (const [pipelineId, { service }] of this.#sessions) {
      const pipeline = service.pipeline;
      if (pipeline.heartbeat !== undefined) {
        beats.push({ pipelineId, beat: () => pipeline.heartbeat?.() ?? Promise.resolve() });
      }
    }
    return beats;
  }

  /**
   * Creates a pipeline owned by `owner` on the lowest free playback partition. Throws
   * `RESOURCE_EXHAUSTED` past `maxPlaybackSessions`, `INVALID_STATE` without AV memory.
   */
  create(owner: Client, params: CreatePipelineParams): PipelineRecord {
    const memory = this.#options.avMemory();
    if (memory === undefined) {
      throw new RialtoError(
        "INVALID_STATE",
        '"pipeline/create": the AV shared memory exists only while the app is Running',
      );
    }
    const partitionIndex = this.#partitions.indexOf(false);
    if (partitionIndex < 0) {
      const capacity = this.#partitions.length;
      throw new RialtoError(
        "RESOURCE_EXHAUSTED",
        `"${PipelineMethods.create.name}": all ${capacity} playback sessions are in use (maxPlaybackSessions ${capacity})`,
        { details: { maxPlaybackSessions: capacity } },
      );
    }
    const partition = memory.layout.playback[partitionIndex];
    if (partition === undefined) {
      throw new RialtoError(
        "INTERNAL",
        `"${PipelineMethods.create.name}": the AV memory has no playback partition ${partitionIndex}`,
      );
    }
    const id = this.#nextId;
    this.#nextId = id >= MAX_HANDLE ? 1 : id + 1;
    const record = { id, partition: partitionIndex, ...pickSize(params) };
    let service: PipelineService;
    try {
      service = new PipelineService({
        pipelineId: id,
        engine: this.#engine,
        playback: this.#playback,
        memory: memory.memory.bytes,
        partition,
        emit: (event, payload) => owner.emit(event, payload),
        clock: this.#options.clock,
        decrypt: this.#options.decrypt,
        applicationRunning: this.#running,
      });
    } catch (error) {
      throw toRialtoError(error);
    }
    this.#partitions[partitionIndex] = true;
    this.#sessions.set(id, { owner, record, service, sources: new Map() });
    return record;
  }

  /**
   * The data side of `owner`'s pipeline `pipelineId`. Throws `NOT_FOUND` (naming `method`)
   * when `owner` has no such pipeline: another client's pipelines are invisible.
   */
  get(owner: Client, pipelineId: number, method: string): PipelineService {
    const session = this.#sessions.get(pipelineId);
    if (session === undefined || session.owner !== owner) {
      throw new RialtoError(
        "NOT_FOUND",
        `"${method}": client ${owner.id} has no pipeline ${pipelineId}`,
      );
    }
    return session.service;
  }

  /** Destroys `owner`'s pipeline (no event follows); `NOT_FOUND` when it has no such pipeline. */
  destroy(owner: Client, pipelineId: number): void {
    this.get(owner, pipelineId, PipelineMethods.destroy.name);
    this.#close(pipelineId);
  }

  /**
   * Frees every pipeline of `owner` (its resources are released): each is stopped (the owner
   * is sent `playbackState Stopped`) and destroyed. Returns how many.
   */
  releaseClient(owner: Client): number {
    let released = 0;
    for (const [id, session] of this.#sessions) {
      if (session.owner !== owner) continue;
      this.#stop(session);
      this.#close(id);
      released++;
    }
    return released;
  }

  /** Records a source attached to a pipeline, for {@link reports}. */
  noteSource(pipelineId: number, sourceId: SourceId, kind: MediaKind): void {
    this.#sessions.get(pipelineId)?.sources.set(sourceId, kind);
  }

  /** Forgets a removed source. */
  forgetSource(pipelineId: number, sourceId: SourceId): void {
    this.#sessions.get(pipelineId)?.sources.delete(sourceId);
  }

  /** State, position and rendering counters of every pipeline (the `control/stats` report). */
  reports(): PipelineStatsReport[] {
    const reports: PipelineStatsReport[] = [];
    for (const { service, record, sources } of this.#sessions.values()) {
      reports.push(pipelineStatsReport(record.id, service.pipeline, sources));
    }
    return reports;
  }

  /**
   * The app's application state changed: while it is not Running no needMediaData goes out
   * and answers to earlier ones are stale; back to Running, waiting requests go out anew.
   */
  setApplicationRunning(running: boolean): void {
    this.#running = running;
    for (const { service } of this.#sessions.values()) service.setApplicationRunning(running);
  }

  /** Destroys every pipeline without events (the session server is going away). */
  closeAll(): void {
    for (const id of [...this.#sessions.keys()]) this.#close(id);
  }

  #stop({ service, record, owner }: Session): void {
    if (service.pipeline.state === "Stopped") return;
    try {
      service.pipeline.stop();
    } catch (error) {
      this.#options.logger.warn(
        { err: toRialtoError(error), clientId: owner.id, pipelineId: record.id },
        "stopping a released pipeline failed",
      );
    }
  }

  #close(pipelineId: number): void {
    const session = this.#sessions.get(pipelineId);
    if (session === undefined) return;
    this.#sessions.delete(pipelineId);
    this.#partitions[session.record.partition] = false;
    session.service.close();
  }
}

function pickSize(params: CreatePipelineParams): Pick<PipelineRecord, "maxWidth" | "maxHeight"> {
  return { maxWidth: params.maxWidth, maxHeight: params.maxHeight };
}
