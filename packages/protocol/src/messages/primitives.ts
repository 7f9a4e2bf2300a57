import Type, { type Static, type TSchema } from "typebox";

/**
 * Bounded scalar building blocks shared by every channel's messages.
 *
 * Every value a peer sends is bounded here, once, so that a hostile peer cannot make a
 * receiver allocate or loop without limit. The frame length is bounded separately (framing).
 */

/** Largest integer that survives a JSON round trip exactly (2^53 - 1). */
export const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** Largest handle, offset or length carried on the wire (2^31 - 1): fits an int32 everywhere. */
export const MAX_INT32 = 2_147_483_647;

/**
 * A closed object schema: every message object goes through here so that none is left open
 * by accident (an open object would let a peer smuggle unbounded extra fields).
 */
export function Closed<Properties extends Record<string, TSchema>>(properties: Properties) {
  return Type.Object(properties, { additionalProperties: false });
}

/** A message with no fields (empty params or an "OK" result). Closed like every other object. */
export const Empty = Closed({});
export type Empty = Static<typeof Empty>;

/** A non-negative counter (frames, bytes, calls): integer 0 .. 2^53 - 1. */
export const Count = Type.Integer({ minimum: 0, maximum: MAX_SAFE });
export type Count = Static<typeof Count>;

/**
 * A server-assigned handle (pipeline, source, key session, player, ...): integer 0 .. 2^31 - 1.
 * Handles are only meaningful on the connection (client) that created them.
 */
export const Handle = Type.Integer({ minimum: 0, maximum: MAX_INT32 });
export type Handle = Static<typeof Handle>;

/** A media time or position in nanoseconds: integer 0 .. 2^53 - 1 (about 104 days). */
export const Nanoseconds = Type.Integer({ minimum: 0, maximum: MAX_SAFE });
export type Nanoseconds = Static<typeof Nanoseconds>;

/** A linear volume: 0 (silent) .. 1 (full scale). */
export const Volume = Type.Number({ minimum: 0, maximum: 1 });
export type Volume = Static<typeof Volume>;

/** A volume, 0 .. 1 (the answer of every `getVolume`). */
export const VolumeResult = Closed({ volume: Volume });
export type VolumeResult = Static<typeof VolumeResult>;

/** A byte offset into a shared-memory mapping: integer 0 .. 2^31 - 1. */
export const ShmOffset = Type.Integer({ minimum: 0, maximum: MAX_INT32 });
export type ShmOffset = Static<typeof ShmOffset>;

/** A byte length inside a shared-memory mapping: integer 0 .. 2^31 - 1. */
export const ShmLength = Type.Integer({ minimum: 0, maximum: MAX_INT32 });
export type ShmLength = Static<typeof ShmLength>;

/**
 * A region of a shared-memory mapping, in bytes from the start of the mapping. The receiver
 * still checks `offset + length` against the size of the mapping it actually holds.
 */
export const ShmRegion = Closed({ offset: ShmOffset, length: ShmLength });
export type ShmRegion = Static<typeof ShmRegion>;

/** A human-readable diagnostic (error message, state-change reason): at most 1024 characters. */
export const DiagnosticText = Type.String({ maxLength: 1024 });
export type DiagnosticText = Static<typeof DiagnosticText>;

/** A semantic version `major.minor.patch` (same grammar as `parseVersion` in version.ts). */
export const ProtocolVersionString = Type.String({
  maxLength: 32,
  pattern: "^(0|[1-9][0-9]{0,8})\\.(0|[1-9][0-9]{0,8})\\.(0|[1-9][0-9]{0,8})$",
});
export type ProtocolVersionString = Static<typeof ProtocolVersionString>;

/** A wire method or event name, `service/method` (e.g. `pipeline/play`): at most 64 characters. */
export const WireName = Type.String({
  maxLength: 64,
  pattern: "^[a-z][A-Za-z0-9]{0,30}/[a-z][A-Za-z0-9]{0,31}$",
});
export type WireName = Static<typeof WireName>;

/** An absolute Unix socket path: starts with `/`, at most 107 bytes (sun_path minus the NUL). */
export const SocketPath = Type.String({ minLength: 2, maxLength: 107, pattern: "^/[^\\u0000]+$" });
export type SocketPath = Static<typeof SocketPath>;

/** A process id: integer 1 .. 2^31 - 1. */
export const ProcessId = Type.Integer({ minimum: 1, maximum: MAX_INT32 });
export type ProcessId = Static<typeof ProcessId>;

/** Number of base64 characters (with padding) that encode `bytes` bytes. */
export function base64Length(bytes: number): number {
  return 4 * Math.ceil(bytes / 3);
}

/**
 * Binary data as standard base64 (RFC 4648 section 4, with `=` padding) of at most `maxBytes`
 * decoded bytes.
 */
export function Base64(maxBytes: number) {
  return Type.String({
    maxLength: base64Length(maxBytes),
    pattern: "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$",
  });
}
