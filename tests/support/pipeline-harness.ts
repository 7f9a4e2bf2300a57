import { afterEach } from "bun:test";
import type {
  MediaPipeline,
  MediaPipelineEventName,
  MediaPipelineEvents,
  RialtoClient,
} from "@rialto/client";
import type { PlaybackOptions } from "@rialto/protocol";
import { ClipPlayer, type ClipPlayerOptions } from "../../apps/demo-app/src/clip-player.ts";
import { type DemuxedMovie, loadDemoClip } from "../../apps/demo-app/src/mp4/index.ts";
import { TestApp } from "./rialto-app.ts";
import { WAIT_MS } from "./wait.ts";

/** One event a pipeline delivered, with its arrival time (ms, `performance.now()`). */
export interface LoggedEvent<K extends MediaPipelineEventName = MediaPipelineEventName> {
  readonly name: K;
  readonly payload: MediaPipelineEvents[K];
  readonly atMs: number;
}

const NAMES: readonly MediaPipelineEventName[] = [
  "playbackState",
  "networkState",
  "needMediaData",
  "position",
  "qos",
  "bufferUnderflow",
  "firstFrame",
  "sourceFlushed",
  "playbackError",
  "playbackInfo",
  "released",
];

/** Every event of one pipeline, in arrival order, and waits on them with deadlines. */
export class PipelineEventLog {
  readonly events: LoggedEvent[] = [];
  readonly #waiters = new Set<() => void>();

  constructor(pipeline: MediaPipeline) {
    for (const name of NAMES) {
      pipeline.on(name, (payload) => {
        this.events.push({ name, payload, atMs: performance.now() } as LoggedEvent);
        for (const wake of this.#waiters) wake();
      });
    }
  }

  /** The events called `name`, in order. */
  all<K extends MediaPipelineEventName>(name: K): LoggedEvent<K>[] {
    return this.events.filter((e): e is LoggedEvent<K> => e.name === name);
  }

  /** The playback states reported so far (after event index `from`), in order. */
  states(from = 0): string[] {
    return this.events
      .slice(from)
      .flatMap((e) => (e.name === "playbackState" ? [(e.payload as { state: string }).state] : []));
  }

  /** Resolves with the first event `name` (after `from`) for which `match` holds. */
  async next<K extends MediaPipelineEventName>(
    name: K,
    match: (payload: MediaPipelineEvents[K]) => boolean = () => true,
    { from = 0, ms = WAIT_MS }: { from?: number; ms?: number } = {},
  ): Promise<LoggedEvent<K>> {
    const find = () =>
      this.events
        .slice(from)
        .find((e): e is LoggedEvent<K> => e.name === name && match(e.payload as never));
    const found = find();
    if (found !== undefined) return found;
    const { promise, resolve, reject } = Promise.withResolvers<LoggedEvent<K>>();
    const wake = () => {
      const event = find();
      if (event !== undefined) resolve(event);
    };
    const timer = setTimeout(
      () => reject(new Error(`no "${name}" event as expected within ${ms} ms`)),
      ms,
    );
    this.#waiters.add(wake);
    return promise.finally(() => {
      clearTimeout(timer);
      this.#waiters.delete(wake);
    });
  }

  /** Resolves once the pipeline reports playback state `state`. */
  state(state: string, options?: { from?: number; ms?: number }): Promise<LoggedEvent> {
    return this.next("playbackState", (p) => p.state === state, options);
  }
}

let clip: Promise<DemuxedMovie> | undefined;

/** The demo clip (`apps/demo-app/media/clip.mp4`), demuxed once per test file. */
export function demoClip(): Promise<DemuxedMovie> {
  clip ??= loadDemoClip();
  return clip;
}

/** The demo clip cut to the samples that start before `endNs`. */
export async function clipUntil(endNs: number): Promise<DemuxedMovie> {
  const clip = await demoClip();
  return {
    ...clip,
    durationNs: endNs,
    tracks: clip.tracks.map((track) => ({
      ...track,
      samples: track.samples.filter((s) => s.timestampNs < endNs),
    })),
  };
}

/** Options of {@link givenRunningApp}. */
export interface RunningAppOptions {
  /** The renderer clock; the sink is always `checksum`. */
  readonly clock: PlaybackOptions["clock"];
  /** The engine; default `virtual`. */
  readonly engine?: PlaybackOptions["engine"];
  /** Extra environment of the session server. */
  readonly env?: Record<string, string>;
  /** Default 1. */
  readonly maxPlaybackSessions?: number;
}

/**
 * Given an app whose real session server (run by a real server manager) is Active with the
 * `checksum` sink, and a client of it that is Running (AV memory mapped).
 */
async function givenRunningApp(
  options: RunningAppOptions,
): Promise<{ app: TestApp; client: RialtoClient }> {
  const app = await TestApp.start({
    config: {
      playback: { engine: options.engine, clock: options.clock, sink: "checksum" },
      resources: { maxPlaybackSessions: options.maxPlaybackSessions ?? 1 },
    },
    env: options.env,
  });
  try {
    const client = await app.connect();
    await client.setApplicationState("Running");
    return { app, client };
  } catch (error) {
    await app[Symbol.asyncDispose]();
    throw error;
  }
}

/**
 * Registers, in the calling scope (call it at file scope), an `afterEach` that disposes every app
 * the returned function gave during the test; the returned function is {@link givenRunningApp}'s
 * "given": an Active app with the `checksum` sink and a Running client.
 */
export function runningAppsPerTest(): (
  options: RunningAppOptions,
) => Promise<{ app: TestApp; client: RialtoClient }> {
  const apps: TestApp[] = [];
  afterEach(async () => {
    for (const app of apps.splice(0)) await app[Symbol.asyncDispose]();
  });
  return async (options) => {
    const given = await givenRunningApp(options);
    apps.push(given.app);
    return given;
  };
}

/**
 * A {@link ClipPlayer} of the demo clip (or `movie`) on a new pipeline of `client`, with an
 * event log attached before anything happens.
 */
export async function givenClipPlayer(
  client: RialtoClient,
  options: ClipPlayerOptions & { movie?: DemuxedMovie } = {},
): Promise<{ player: ClipPlayer; log: PipelineEventLog }> {
  const pipeline = await client.createMediaPipeline();
  const log = new PipelineEventLog(pipeline);
  const player = await ClipPlayer.attach(pipeline, options.movie ?? (await demoClip()), options);
  return { player, log };
}
