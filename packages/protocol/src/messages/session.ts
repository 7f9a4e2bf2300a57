import Type, { type Static } from "typebox";
import { defineEvent, defineMethod } from "../rpc/descriptor.ts";
import {
  ApplicationState,
  MAX_PLAYBACK_SESSIONS,
  MAX_WEB_AUDIO_PLAYERS,
  Resources,
} from "./common.ts";
import {
  Closed,
  Empty,
  Handle,
  MAX_INT32,
  MAX_SAFE,
  ProtocolVersionString,
  ShmLength,
  ShmRegion,
} from "./primitives.ts";

/**
 * Session control between a client (`@rialto/client`) and its session server (SPEC 6, 7, 8):
 * registration, the app's AV shared memory, application state, ping. File descriptors never
 * travel in these messages: they go over the fd side channel (SCM_RIGHTS) and a message names
 * them by a tag.
 */

/** A client id, assigned by the session server on first registration: integer 1 .. 2^31 - 1. */
export const ClientId = Type.Integer({ minimum: 1, maximum: MAX_INT32 });
export type ClientId = Static<typeof ClientId>;

/**
 * A token binding a client's fd side-channel connection to its registration: 16 to 64 random
 * bytes as lowercase hex. The client sends it as the first record on its side-channel
 * connection and presents it here, so the server can claim that connection for this client.
 */
export const FdToken = Type.String({
  minLength: 32,
  maxLength: 128,
  pattern: "^(?:[0-9a-f]{2})+$",
});
export type FdToken = Static<typeof FdToken>;

/**
 * The secret that proves a reconnecting client is the one that registered: 16 to 64 random bytes
 * as lowercase hex, handed out in the register reply and presented with `clientId` on every
 * resume. The server compares it in constant time; the id alone resumes nothing.
 */
export const ResumeToken = Type.String({
  minLength: 32,
  maxLength: 128,
  pattern: "^(?:[0-9a-f]{2})+$",
});
export type ResumeToken = Static<typeof ResumeToken>;

/** Names one file descriptor sent on the fd side channel, so a message can refer to it. */
export const FdTag = Handle;
export type FdTag = Static<typeof FdTag>;

/**
 * The first call of every connection. A different protocol major is refused with
 * `INCOMPATIBLE_VERSION`; a `clientId` the server does not know (any more) with
 * `UNKNOWN_CLIENT` (the client then registers afresh, without it).
 */
export const RegisterParams = Closed({
  /** The client's `PROTOCOL_VERSION`. */
  protocolVersion: ProtocolVersionString,
  /** On a reconnect: the id this client got before, so it keeps its state and reply cache. */
  clientId: Type.Optional(ClientId),
  /** With `clientId`: the `resumeToken` of that registration (a resume without it is refused). */
  resumeToken: Type.Optional(ResumeToken),
  /** Token of this client's fd side-channel connection, when it opened one. */
  fdToken: Type.Optional(FdToken),
});
export type RegisterParams = Static<typeof RegisterParams>;

/** The answer to {@link RegisterParams}; the server then pushes `session/applicationState`. */
export const RegisterResult = Closed({
  /** The client's id: new, or the one it sent on a reconnect. */
  clientId: ClientId,
  /** The app's current application state. */
  applicationState: ApplicationState,
  /** The session server's `PROTOCOL_VERSION`. */
  protocolVersion: ProtocolVersionString,
  /** The app's resource limits. */
  resources: Resources,
  /**
   * The secret to present with `clientId` when reconnecting (set by the retry server on every
   * registration; the same for the client's whole life).
   */
  resumeToken: Type.Optional(ResumeToken),
});
export type RegisterResult = Static<typeof RegisterResult>;

/** The AV buffer partition of one playback session: one region per source type (SPEC 8). */
export const PlaybackPartition = Closed({
  /** The partition's index, 0 .. maxPlaybackSessions - 1. */
  index: Type.Integer({ minimum: 0, maximum: MAX_PLAYBACK_SESSIONS - 1 }),
  /** Default 7 MiB. */
  video: ShmRegion,
  /** Default 1 MiB. */
  audio: ShmRegion,
  /** Default 256 KiB. */
  subtitle: ShmRegion,
});
export type PlaybackPartition = Static<typeof PlaybackPartition>;

/** The ring-buffer partition of one web-audio player (default 10 KiB). */
export const WebAudioPartition = Closed({
  index: Type.Integer({ minimum: 0, maximum: MAX_WEB_AUDIO_PLAYERS - 1 }),
  region: ShmRegion,
});
export type WebAudioPartition = Static<typeof WebAudioPartition>;

/**
 * The app's AV shared memory (available while Active; `INVALID_STATE` otherwise). The sealed
 * memfd itself is sent on the fd side channel tagged `fdTag`; the client maps `size` bytes.
 * The layout is informative: every request (`needMediaData`, web audio) names its region again.
 */
export const SharedMemoryInfo = Closed({
  /** Size of the mapping in bytes. */
  size: ShmLength,
  /** Tag of the side-channel message that carries the memfd. */
  fdTag: FdTag,
  /** One partition per playback session the app may create. */
  playback: Type.Array(PlaybackPartition, { maxItems: MAX_PLAYBACK_SESSIONS }),
  /** One partition per web-audio player the app may create. */
  webAudio: Type.Array(WebAudioPartition, { maxItems: MAX_WEB_AUDIO_PLAYERS }),
});
export type SharedMemoryInfo = Static<typeof SharedMemoryInfo>;

/** A no-op round trip: the result echoes `value` (integer, ±(2^53 - 1)). */
export const SessionPing = Closed({
  value: Type.Integer({ minimum: -MAX_SAFE, maximum: MAX_SAFE }),
});
export type SessionPing = Static<typeof SessionPing>;

/**
 * The session server's heartbeat to a client (SPEC 3 sequence 5: the health check reaches every
 * Running client); the client library answers it by itself with `session/heartbeatAck`.
 */
export const Heartbeat = Closed({ id: Type.Integer({ minimum: 0, maximum: MAX_SAFE }) });
export type Heartbeat = Static<typeof Heartbeat>;

/** Pushed on registration and on every change of the app's application state. */
export const ApplicationStateEvent = Closed({ state: ApplicationState });
export type ApplicationStateEvent = Static<typeof ApplicationStateEvent>;

/** Methods a client calls on its session server for session control. */
export const SessionMethods = {
  /** Registers (or re-registers after a reconnect) this client. */
  register: defineMethod("session/register", RegisterParams, RegisterResult),
  /** Gets the AV shared memory (the client going Running); the memfd follows on the side channel. */
  getSharedMemory: defineMethod("session/getSharedMemory", Empty, SharedMemoryInfo),
  /** The client going Inactive: frees its pipelines, key sessions and players; it unmaps. */
  releaseResources: defineMethod("session/releaseResources", Empty, Empty),
  /** A no-op round trip. */
  ping: defineMethod("session/ping", SessionPing, SessionPing),
  /** Answers a `session/heartbeat` event (the client library does it by itself). */
  heartbeatAck: defineMethod("session/heartbeatAck", Heartbeat, Empty),
} as const;

/** Events a session server pushes to its clients for session control. */
export const SessionEvents = {
  /** The app's application state (Running, Inactive, Unknown). */
  applicationState: defineEvent("session/applicationState", ApplicationStateEvent),
  /** A health-check heartbeat; answer with `session/heartbeatAck` and the same id. */
  heartbeat: defineEvent("session/heartbeat", Heartbeat),
} as const;
