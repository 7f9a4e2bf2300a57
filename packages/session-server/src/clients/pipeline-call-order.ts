import { PipelineMethods, RialtoError } from "@rialto/protocol";
import type { PipelineService } from "../media/pipeline-service.ts";

/**
 * The order a pipeline's calls must come in, checked before the engine sees them, so a call
 * made too early is refused with `INVALID_STATE` naming what must come first instead of being a
 * silent no-op: `load` → `attachSource` (one per kind) → `allSourcesAttached` → `play`,
 * `pause`, `setPosition`, `renderFrame` (`setSourcePosition` and `flush` of an attached source
 * may come earlier: they set where a source starts).
 * What the engine checks itself (a second `allSourcesAttached`, a `load` past it, a call on a
 * Stopped pipeline) it still answers.
 */
export class PipelineCallOrder {
  readonly #pipelineId: number;
  #loaded = false;
  #sources = 0;
  #allAttached = false;

  constructor(pipelineId: number) {
    this.#pipelineId = pipelineId;
  }

  /** `load` succeeded. */
  loaded(): void {
    this.#loaded = true;
  }

  /** `attachSource` succeeded. */
  sourceAttached(): void {
    this.#sources++;
  }

  /** `removeSource` succeeded. */
  sourceRemoved(): void {
    this.#sources = Math.max(0, this.#sources - 1);
  }

  /** `allSourcesAttached` succeeded. */
  allSourcesAttached(): void {
    this.#allAttached = true;
  }

  /** Before `attachSource`: `load` first. */
  checkAttach(): void {
    if (!this.#loaded) this.#refuse(PipelineMethods.attachSource.name, ["load()"]);
  }

  /** Before `allSourcesAttached`: `load` and at least one `attachSource` first. */
  checkAllSourcesAttached(): void {
    const missing = this.#missing().filter((step) => step !== "allSourcesAttached()");
    if (missing.length > 0) this.#refuse(PipelineMethods.allSourcesAttached.name, missing);
  }

  /** Before a playback call (`play`, `pause`, seeks, flushes, ...): `allSourcesAttached` first. */
  checkPlayback(method: string): void {
    if (!this.#allAttached) this.#refuse(method, this.#missing());
  }

  #missing(): string[] {
    const missing: string[] = [];
    if (!this.#loaded) missing.push("load()");
    if (this.#sources === 0) missing.push("attachSource() for each source");
    if (!this.#allAttached) missing.push("allSourcesAttached()");
    return missing;
  }

  #refuse(method: string, missing: readonly string[]): never {
    const call = method.replace("pipeline/", "");
    throw new RialtoError(
      "INVALID_STATE",
      `${method}: pipeline ${this.#pipelineId} is not ready for ${call}(): call ${missing.join(", then ")} first`,
    );
  }
}

const orders = new WeakMap<PipelineService, PipelineCallOrder>();

/** The call order of a pipeline (made on first use; forgotten with the pipeline). */
export function callOrderOf(service: PipelineService, pipelineId: number): PipelineCallOrder {
  let order = orders.get(service);
  if (order === undefined) {
    order = new PipelineCallOrder(pipelineId);
    orders.set(service, order);
  }
  return order;
}
