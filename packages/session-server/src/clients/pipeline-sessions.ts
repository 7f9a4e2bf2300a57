import {
  type CreatePipelineParams,
  DEFAULT_PLAYBACK_OPTIONS,
  type PipelineStatsReport,
  type PlaybackOptions,
  RialtoError,
  type SourceId,
  toRialtoError,
} from "@rialto/protocol";
import type { MediaKind } from "@rialto/shm";
import type { Logger } from "pino";
import type { AvMemory } from "../av-memory.ts";
import type { MediaClock } from "../media/media-clock.ts";
import type { FrameDecryptor, MediaEngine } from "../media/media-engine.ts";
import { PipelineService } from "../media/pipeline-service.ts";
import { selectEngine } from "../media/select-engine.ts";
import type { Client } from "./clients-context.ts";
import type { PipelineBook, PipelineRecord } from "./pipeline-book.ts";
import { pipelineStatsReport } from "./pipeline-stats.ts";

/** What {@link PipelineSessions} is built from. */
export interface PipelineSessionsOptions {
  readonly logger: Logger;
  /** The app's playback sessions (ids, partitions, `maxPlaybackSessions`). */
  readonly book: PipelineBook;
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

/** One live pipeline: the client that created it, its book record and its data side. */
interface Session {
  readonly owner: Client;
  readonly record: PipelineRecord;
  readonly service: PipelineService;
  /** Its attached sources and their kinds (for the stats report). */
  readonly sources: Map<SourceId, MediaKind>;
}

/**
 * The app's playing pipelines (SPEC 5, 8, 9): each `pipeline/create` claims a playback
 * partition of the AV memory in the {@link PipelineBook} and gets a {@link PipelineService} on
 * the configured engine, whose events go to the owning client as sequenced retry-RPC events.
 * Pipelines die with `pipeline/destroy`, with their client's resources (the client going
 * Inactive, its grace period ending) and when the app goes Inactive: then the owner is sent
 * `playbackState Stopped` first, so it learns its pipeline is gone even before the
 * application state follows.
 */
export class PipelineSessions {
  readonly #options: PipelineSessionsOptions;
  readonly #engine: MediaEngine;
  readonly #playback: PlaybackOptions;
  readonly #sessions = new Map<number, Session>();
  #running = true;

  constructor(options: PipelineSessionsOptions) {
    this.#options = options;
    this.#playback = options.playback ?? DEFAULT_PLAYBACK_OPTIONS;
    this.#engine = options.engine ?? selectEngine(this.#playback, options.clock);
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
    const record = this.#options.book.create(owner.session.pipelines, params);
    const partition = memory.layout.playback[record.partition];
    try {
      if (partition === undefined) {
        throw new RialtoError(
          "INTERNAL",
          `"pipeline/create": the AV memory has no playback partition ${record.partition}`,
        );
      }
      const service = new PipelineService({
        pipelineId: record.id,
        engine: this.#engine,
        playback: this.#playback,
        memory: memory.memory.bytes,
        partition,
        emit: (event, payload) => owner.emit(event, payload),
        clock: this.#options.clock,
        decrypt: this.#options.decrypt,
        applicationRunning: this.#running,
      });
      this.#sessions.set(record.id, { owner, record, service, sources: new Map() });
    } catch (error) {
      this.#options.book.destroy(owner.session.pipelines, record.id);
      throw toRialtoError(error);
    }
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
    this.get(owner, pipelineId, "pipeline/destroy");
    this.#options.book.destroy(owner.session.pipelines, pipelineId);
    this.#close(pipelineId);
  }

  /**
   * Frees every pipeline of `owner` (its resources are released): each is stopped (the owner
   * is sent `playbackState Stopped`) and destroyed. Returns how many.
   */
  releaseClient(owner: Client): number {
    for (const [id, session] of this.#sessions) {
      if (session.owner !== owner) continue;
      this.#stop(session);
      this.#close(id);
    }
    return this.#options.book.releaseAll(owner.session.pipelines);
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
    session.service.close();
  }
}
