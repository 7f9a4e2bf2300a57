import Type, { type Static } from "typebox";
import { Closed } from "./primitives.ts";

/**
 * Enumerations and records shared by several channels: lifecycle states, app ids, log levels,
 * resources and playback options (SPEC sections 3, 3.1, 5).
 */

/**
 * State of a session server (SPEC 3). `Uninitialised`: started, not configured yet (also the
 * state of a preloaded server). `NotRunning`: stopped (the process exits by itself).
 * `Error`: failed to start, configure or change state, crashed or hung.
 */
export const SessionServerState = Type.Enum([
  "Uninitialised",
  "Inactive",
  "Active",
  "NotRunning",
  "Error",
]);
export type SessionServerState = Static<typeof SessionServerState>;

/** A state an app can be started in (`initiateApplication`, `SetConfiguration.targetState`). */
export const TargetState = Type.Enum(["Inactive", "Active"]);
export type TargetState = Static<typeof TargetState>;

/** A state an app can be moved to (`changeSessionServerState`, `SetState`). */
export const RequestedState = Type.Enum(["Inactive", "Active", "NotRunning"]);
export type RequestedState = Static<typeof RequestedState>;

/**
 * The client-side application state (SPEC 3): `Running` when the session server is Active,
 * `Inactive` when it is Inactive, `Unknown` when it is NotRunning or unreachable.
 */
export const ApplicationState = Type.Enum(["Running", "Inactive", "Unknown"]);
export type ApplicationState = Static<typeof ApplicationState>;

/** The grammar of an app id (SPEC 3): 1-64 characters, letters/digits first, then `._-`. */
export const APP_ID_PATTERN = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$";

/** An application id; it also names files in the runtime dir, hence the strict grammar. */
export const AppId = Type.String({ minLength: 1, maxLength: 64, pattern: APP_ID_PATTERN });
export type AppId = Static<typeof AppId>;

/** A pino log level; `silent` turns logging off. */
export const LogLevel = Type.Enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);
export type LogLevel = Static<typeof LogLevel>;

/** Largest `maxPlaybackSessions`: each session reserves about 8.25 MiB of shared memory. */
export const MAX_PLAYBACK_SESSIONS = 16;

/** Largest `maxWebAudioPlayers`: each player reserves 10 KiB of shared memory. */
export const MAX_WEB_AUDIO_PLAYERS = 16;

/**
 * The decoder resources an app may use, fully resolved (as sent in `SetConfiguration` and
 * returned by `session/register`). They size the app's shared memory (SPEC 8); exceeding them
 * fails with `RESOURCE_EXHAUSTED`.
 */
export const Resources = Closed({
  /** Concurrent media pipelines: 0 .. 16. */
  maxPlaybackSessions: Type.Integer({ minimum: 0, maximum: MAX_PLAYBACK_SESSIONS }),
  /** Whether the app may create web-audio players at all. */
  supportsWebAudio: Type.Boolean(),
  /** Concurrent web-audio players when `supportsWebAudio`: 0 .. 16. */
  maxWebAudioPlayers: Type.Integer({ minimum: 0, maximum: MAX_WEB_AUDIO_PLAYERS }),
});
export type Resources = Static<typeof Resources>;

/**
 * The resources an app gets when its config leaves a field out: one playback session, no web
 * audio (one player once `supportsWebAudio` is set). Matches `rialtoctl start` without flags.
 */
export const DEFAULT_RESOURCES: Readonly<Resources> = Object.freeze({
  maxPlaybackSessions: 1,
  supportsWebAudio: false,
  maxWebAudioPlayers: 1,
});

/** {@link Resources} as given in an app config: every field optional ({@link DEFAULT_RESOURCES}). */
export const ResourcesConfig = Type.Partial(Resources, { additionalProperties: false });
export type ResourcesConfig = Static<typeof ResourcesConfig>;

/** A GStreamer launch fragment for a device sink, e.g. `autovideosink` or `waylandsink sync=true`. */
export const LaunchFragment = Type.String({
  minLength: 1,
  maxLength: 1024,
  pattern: "^[\\x20-\\x7e]+$",
});
export type LaunchFragment = Static<typeof LaunchFragment>;

/**
 * How the session server's pipelines play (SPEC 9, 9.1). `engine`: `virtual` (schedules and
 * checksums the compressed frames; needs nothing) or `gstreamer` (real decoding through
 * GStreamer). `clock`: `realtime` (wall clock times the playback rate) or `freerun` (as fast as
 * data arrives: tests, benchmarks). `sink`: `null` (counts frames), `checksum` (also a SHA-256
 * over what is rendered: the compressed frames on `virtual`, the decoded I420 / F32LE output on
 * `gstreamer`) or `device` (the platform's sinks on `gstreamer`; counts only on `virtual`).
 * `videoSink` / `audioSink`: the device sinks as GStreamer launch fragments (default
 * `autovideosink` / `autoaudiosink`).
 */
export const PlaybackOptions = Closed({
  /** Absent means `virtual` (a session server of protocol 1.0 knew no other engine). */
  engine: Type.Optional(Type.Enum(["virtual", "gstreamer"])),
  clock: Type.Enum(["realtime", "freerun"]),
  sink: Type.Enum(["null", "checksum", "device"]),
  videoSink: Type.Optional(LaunchFragment),
  audioSink: Type.Optional(LaunchFragment),
});
export type PlaybackOptions = Static<typeof PlaybackOptions>;

/**
 * The playback options used when a config leaves a field out: `virtual` engine, `realtime`
 * clock, `null` sink.
 */
export const DEFAULT_PLAYBACK_OPTIONS: Readonly<PlaybackOptions> = Object.freeze({
  engine: "virtual",
  clock: "realtime",
  sink: "null",
});

/** {@link PlaybackOptions} as given in an app config: every field optional. */
export const PlaybackConfig = Type.Partial(PlaybackOptions, { additionalProperties: false });
export type PlaybackConfig = Static<typeof PlaybackConfig>;

/** An environment variable name: a POSIX-style identifier of at most 128 characters. */
export const ENV_NAME_PATTERN = "^[A-Za-z_][A-Za-z0-9_]{0,127}$";

/**
 * Extra environment variables for an app's session server process: at most 64 entries, names
 * per {@link ENV_NAME_PATTERN}, values at most 4096 characters.
 */
export const EnvVars = Type.Record(
  Type.String({ pattern: ENV_NAME_PATTERN }),
  Type.String({ maxLength: 4096 }),
  {
    maxProperties: 64,
    additionalProperties: false,
  },
);
export type EnvVars = Static<typeof EnvVars>;

/** A Unix user id (SO_PEERCRED): integer 0 .. 2^32 - 2 (2^32 - 1 is "no user"). */
export const Uid = Type.Integer({ minimum: 0, maximum: 4_294_967_294 });
export type Uid = Static<typeof Uid>;

/**
 * The client socket name in an app config (SPEC 3.1): absent → a unique path in the runtime
 * dir; starting with `/` → used as is (at most 107 bytes); otherwise a file name in the runtime
 * dir (no `/`, not `.` or `..`).
 */
export const SocketName = Type.String({
  minLength: 1,
  maxLength: 107,
  pattern: "^(/[^\\u0000]+|(?!\\.\\.?$)[^/\\u0000]+)$",
});
export type SocketName = Static<typeof SocketName>;

/**
 * Per-app configuration given to `initiateApplication` (SPEC 3.1). Every field is optional; the
 * server manager fills the defaults ({@link DEFAULT_RESOURCES}, {@link DEFAULT_PLAYBACK_OPTIONS},
 * its own log level).
 */
export const AppConfig = Closed({
  /** Client socket name; see {@link SocketName}. */
  sessionManagementSocketName: Type.Optional(SocketName),
  /** Decoder resources; missing fields from {@link DEFAULT_RESOURCES}. */
  resources: Type.Optional(ResourcesConfig),
  /** The session server's log level; default the manager's. */
  logLevel: Type.Optional(LogLevel),
  /** Renderer options; missing fields from {@link DEFAULT_PLAYBACK_OPTIONS}. */
  playback: Type.Optional(PlaybackConfig),
  /** Extra environment of the session server process (added to the manager's `env`). */
  env: Type.Optional(EnvVars),
  /** When set, only clients running as one of these uids may connect (SO_PEERCRED); max 64. */
  allowedUids: Type.Optional(Type.Array(Uid, { minItems: 1, maxItems: 64 })),
});
export type AppConfig = Static<typeof AppConfig>;
