import type { ApplicationState, Resources } from "@rialto/protocol";
import type { FdChannel } from "@rialto/shm";
import type { AvMemory } from "../av-memory.ts";
import type { SessionServerLogger } from "../logger.ts";
import type { Client } from "./client-state.ts";
import type { MediaKeysBook } from "./media-keys-book.ts";
import type { PipelineBook } from "./pipeline-book.ts";
import type { WebAudioBook } from "./web-audio-book.ts";

export type { Client, ClientRouter } from "./client-state.ts";

/** What the client method handlers need from the client sessions that serve them. */
export interface ClientsContext {
  readonly logger: SessionServerLogger;
  /** The app's resource limits. */
  readonly resources: Resources;
  /** The app's application state now. */
  readonly applicationState: ApplicationState;
  /** The app's media pipelines over every client (create, destroy and every playback call). */
  readonly pipelines: PipelineBook;
  /**
   * The app's MediaKeys and key sessions over every client; also the `KeyStore` that decrypts
   * frames (`findKey(keyId, frame's keySessionId)`; see the README's media keys section).
   */
  readonly keys: MediaKeysBook;
  /** The app's web-audio players over every client. */
  readonly webAudio: WebAudioBook;
  /** Bound of one shm pool call, ms. */
  readonly shmMsgTimeoutMs: number;
  /** Pool calls per client and service that may run at once. */
  readonly shmMaxConcurrentInvocations: number;
  /** The AV shared memory while the app is Active. */
  avMemory(): AvMemory | undefined;
  /** The side-channel connection that presented `token`, now owned by the caller. */
  claimSideChannel(token: Uint8Array): FdChannel | undefined;
  /** Frees the client's pipelines, MediaKeys (with their key sessions) and web-audio players; it keeps its id. */
  releaseClientResources(client: Client): void;
  /** The client answered heartbeat `id` (`session/heartbeatAck`). */
  heartbeatAcknowledged(client: Client, id: number): void;
}
