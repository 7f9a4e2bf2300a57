import { type CreatePipelineParams, RialtoError } from "@rialto/protocol";
import { MAX_HANDLE } from "./handle-allocator.ts";

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

/** The pipelines of one client, by id. */
export type ClientPipelines = Map<number, PipelineRecord>;

/**
 * The app's playback sessions (SPEC 5): at most `maxPlaybackSessions` pipelines over all its
 * clients, each holding one AV-buffer partition (the lowest free one) until it is destroyed
 * or its client's resources are released.
 */
export class PipelineBook {
  readonly #capacity: number;
  readonly #partitions: boolean[];
  #nextId = 1;
  #inUse = 0;

  constructor(maxPlaybackSessions: number) {
    this.#capacity = maxPlaybackSessions;
    this.#partitions = Array.from({ length: maxPlaybackSessions }, () => false);
  }

  /** Pipelines alive over every client. */
  get inUse(): number {
    return this.#inUse;
  }

  /** Creates a pipeline owned by `owner`; RESOURCE_EXHAUSTED past `maxPlaybackSessions`. */
  create(owner: ClientPipelines, params: CreatePipelineParams): PipelineRecord {
    const partition = this.#partitions.indexOf(false);
    if (partition < 0) {
      throw new RialtoError(
        "RESOURCE_EXHAUSTED",
        `"pipeline/create": all ${this.#capacity} playback sessions are in use (maxPlaybackSessions ${this.#capacity})`,
        { details: { maxPlaybackSessions: this.#capacity } },
      );
    }
    this.#partitions[partition] = true;
    this.#inUse++;
    const id = this.#nextId;
    this.#nextId = id >= MAX_HANDLE ? 1 : id + 1;
    const record = { id, partition, maxWidth: params.maxWidth, maxHeight: params.maxHeight };
    owner.set(id, record);
    return record;
  }

  /** Destroys `owner`'s pipeline `id`; NOT_FOUND when `owner` has no such pipeline. */
  destroy(owner: ClientPipelines, id: number): void {
    const record = owner.get(id);
    if (record === undefined) {
      throw new RialtoError("NOT_FOUND", `"pipeline/destroy": this client has no pipeline ${id}`);
    }
    this.#free(owner, record);
  }

  /** Destroys every pipeline of `owner`; returns how many. */
  releaseAll(owner: ClientPipelines): number {
    const count = owner.size;
    for (const record of [...owner.values()]) this.#free(owner, record);
    return count;
  }

  #free(owner: ClientPipelines, record: PipelineRecord): void {
    owner.delete(record.id);
    this.#partitions[record.partition] = false;
    this.#inUse--;
  }
}
