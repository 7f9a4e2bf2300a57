import Type, { type Static } from "typebox";
import { defineEvent, defineMethod } from "../rpc/descriptor.ts";
import { Base64, base64Length, Closed, Empty, Handle } from "./primitives.ts";

/**
 * Media keys (SPEC 9; Rialto's `IMediaKeys`, W3C EME names for EME values): ClearKey
 * (`org.w3.clearkey`) key sessions, license requests and key statuses. Calls need the server
 * Active (`INVALID_STATE`) and handles this client created (`NOT_FOUND`).
 */

/** A MediaKeys instance, assigned by `keys/create`. */
export const MediaKeysId = Handle;
export type MediaKeysId = Static<typeof MediaKeysId>;

/** A key session, assigned by `keys/createKeySession`; unique within the session server. */
export const KeySessionId = Handle;
export type KeySessionId = Static<typeof KeySessionId>;

/** Largest init data, license message or license response: 64 KiB of bytes. */
export const MAX_KEY_MESSAGE_BYTES = 65_536;

/** A reverse-DNS key system name, e.g. `org.w3.clearkey`; unsupported ones are `NOT_FOUND`. */
export const KeySystem = Type.String({
  maxLength: 128,
  pattern: "^[a-z0-9]+(\\.[a-z0-9-]+)+$",
});
export type KeySystem = Static<typeof KeySystem>;

/** Creates a MediaKeys instance for one key system. */
export const CreateMediaKeysParams = Closed({ keySystem: KeySystem });
export type CreateMediaKeysParams = Static<typeof CreateMediaKeysParams>;

/** Names one MediaKeys instance (the answer of `keys/create`, the params of `keys/destroy`). */
export const MediaKeysRef = Closed({ mediaKeysId: MediaKeysId });
export type MediaKeysRef = Static<typeof MediaKeysRef>;

/**
 * Key session types (W3C EME). ClearKey here keeps keys for the session's life only:
 * `persistent-license` is refused with INVALID_ARGUMENT, naming the type.
 */
export const KeySessionType = Type.Enum(["temporary", "persistent-license"]);
export type KeySessionType = Static<typeof KeySessionType>;

/** Creates a key session. */
export const CreateKeySessionParams = Closed({
  mediaKeysId: MediaKeysId,
  sessionType: KeySessionType,
});
export type CreateKeySessionParams = Static<typeof CreateKeySessionParams>;

/** Names one key session. */
export const KeySessionRef = Closed({ keySessionId: KeySessionId });
export type KeySessionRef = Static<typeof KeySessionRef>;

/** Init data formats (W3C EME initDataTypes registry). */
export const InitDataType = Type.Enum(["cenc", "keyids", "webm"]);
export type InitDataType = Static<typeof InitDataType>;

/**
 * Generates a license request from init data (`cenc`: concatenated `pssh` boxes; `keyids`: the
 * JSON `{"kids": [...]}` as bytes). The request arrives as a `keys/licenseRequest` event.
 */
export const GenerateRequestParams = Closed({
  keySessionId: KeySessionId,
  initDataType: InitDataType,
  /** The init data bytes, base64, at most 64 KiB decoded. */
  initData: Base64(MAX_KEY_MESSAGE_BYTES),
});
export type GenerateRequestParams = Static<typeof GenerateRequestParams>;

/**
 * How a license message or response is carried: `utf8` = the text itself (ClearKey's JSON),
 * `base64` = the bytes as standard base64.
 */
export const MessageEncoding = Type.Enum(["utf8", "base64"]);
export type MessageEncoding = Static<typeof MessageEncoding>;

/** A license message or response: text or base64 (64 KiB of bytes at most, either way). */
export const KeyMessage = Type.String({ maxLength: base64Length(MAX_KEY_MESSAGE_BYTES) });
export type KeyMessage = Static<typeof KeyMessage>;

/** Provides the license (for ClearKey: a JWK set, `{"keys":[{"kty":"oct","kid":..,"k":..}]}`). */
export const UpdateSessionParams = Closed({
  keySessionId: KeySessionId,
  response: KeyMessage,
  responseEncoding: MessageEncoding,
});
export type UpdateSessionParams = Static<typeof UpdateSessionParams>;

/**
 * A license request to forward to a license server (for ClearKey: the W3C JSON request
 * `{"kids":[...],"type":"temporary"}`, as `utf8`).
 */
export const LicenseRequestEvent = Closed({
  keySessionId: KeySessionId,
  message: KeyMessage,
  messageEncoding: MessageEncoding,
  /** License server URL, when the key system knows one (at most 4096 characters). */
  url: Type.Optional(Type.String({ maxLength: 4096 })),
});
export type LicenseRequestEvent = Static<typeof LicenseRequestEvent>;

/** A CENC key id: 16 bytes as 32 lowercase hex digits. */
export const KeyId = Type.String({ minLength: 32, maxLength: 32, pattern: "^[0-9a-f]{32}$" });
export type KeyId = Static<typeof KeyId>;

/** Key statuses (W3C EME MediaKeyStatus). */
export const KeyStatus = Type.Enum([
  "usable",
  "expired",
  "released",
  "output-restricted",
  "output-downscaled",
  "status-pending",
  "internal-error",
]);
export type KeyStatus = Static<typeof KeyStatus>;

/** Largest number of keys one session reports. */
export const MAX_KEYS_PER_SESSION = 128;

/** The statuses of every key of a session, after `updateSession`, close or expiry. */
export const KeyStatusesChangedEvent = Closed({
  keySessionId: KeySessionId,
  statuses: Type.Array(Closed({ keyId: KeyId, status: KeyStatus }), {
    maxItems: MAX_KEYS_PER_SESSION,
  }),
});
export type KeyStatusesChangedEvent = Static<typeof KeyStatusesChangedEvent>;

/** Names a key system, for the capability questions. */
export const KeySystemRef = Closed({ keySystem: KeySystem });
export type KeySystemRef = Static<typeof KeySystemRef>;

/** The key systems the session server has (Rialto's `getSupportedKeySystems`). */
export const KeySystemsResult = Closed({
  keySystems: Type.Array(KeySystem, { maxItems: 16 }),
});
export type KeySystemsResult = Static<typeof KeySystemsResult>;

/** A yes/no capability answer. */
export const SupportedResult = Closed({ supported: Type.Boolean() });
export type SupportedResult = Static<typeof SupportedResult>;

/** A key system's version (Rialto's `getSupportedKeySystemVersion`). */
export const KeySystemVersionResult = Closed({ version: Type.String({ maxLength: 64 }) });
export type KeySystemVersionResult = Static<typeof KeySystemVersionResult>;

/** Whether a key session holds a key (Rialto's `containsKey`). */
export const ContainsKeyParams = Closed({ keySessionId: KeySessionId, keyId: KeyId });
export type ContainsKeyParams = Static<typeof ContainsKeyParams>;

/** The CDM's own id of a key session (Rialto's `getCdmKeySessionId`), for logs and licenses. */
export const CdmKeySessionIdResult = Closed({
  cdmKeySessionId: Type.String({ maxLength: 128 }),
});
export type CdmKeySessionIdResult = Static<typeof CdmKeySessionIdResult>;

/** Media-keys methods (client → session server). */
export const MediaKeysMethods = {
  /** Creates a MediaKeys instance (`org.w3.clearkey`). */
  create: defineMethod("keys/create", CreateMediaKeysParams, MediaKeysRef),
  /** Creates a key session. */
  createKeySession: defineMethod("keys/createKeySession", CreateKeySessionParams, KeySessionRef),
  /** Generates a license request (answered by a `keys/licenseRequest` event). */
  generateRequest: defineMethod("keys/generateRequest", GenerateRequestParams, Empty),
  /** Provides the license; key statuses follow. */
  updateSession: defineMethod("keys/updateSession", UpdateSessionParams, Empty),
  /** Closes a key session: its keys are released, the session id stays valid until removed. */
  closeKeySession: defineMethod("keys/closeKeySession", KeySessionRef, Empty),
  /** Removes a key session and its stored state. */
  removeKeySession: defineMethod("keys/removeKeySession", KeySessionRef, Empty),
  /** Destroys a MediaKeys instance and its key sessions. */
  destroy: defineMethod("keys/destroy", MediaKeysRef, Empty),
  /** The key systems there are (capabilities; any app state). */
  getSupportedKeySystems: defineMethod("keys/getSupportedKeySystems", Empty, KeySystemsResult),
  /** Whether a key system is there (capabilities; any app state). */
  supportsKeySystem: defineMethod("keys/supportsKeySystem", KeySystemRef, SupportedResult),
  /** A key system's version; NOT_FOUND for one that is not there. */
  getSupportedKeySystemVersion: defineMethod(
    "keys/getSupportedKeySystemVersion",
    KeySystemRef,
    KeySystemVersionResult,
  ),
  /** Whether a key system takes a server certificate (ClearKey: no). */
  isServerCertificateSupported: defineMethod(
    "keys/isServerCertificateSupported",
    KeySystemRef,
    SupportedResult,
  ),
  /** Whether a key session holds a usable key of that id. */
  containsKey: defineMethod("keys/containsKey", ContainsKeyParams, SupportedResult),
  /** The CDM's id of a key session. */
  getCdmKeySessionId: defineMethod("keys/getCdmKeySessionId", KeySessionRef, CdmKeySessionIdResult),
} as const;

/** Media-keys events (session server → client). */
export const MediaKeysEvents = {
  /** A license request to forward to a license server. */
  licenseRequest: defineEvent("keys/licenseRequest", LicenseRequestEvent),
  /** Key statuses of a session changed. */
  keyStatusesChanged: defineEvent("keys/keyStatusesChanged", KeyStatusesChangedEvent),
} as const;
