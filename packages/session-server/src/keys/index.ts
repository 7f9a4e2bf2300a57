export {
  type ContentKey,
  clearKeyLicenseRequest,
  keyIdsFromInitData,
  parseJwkSet,
  responseBytes,
} from "./clearkey-messages.ts";
export {
  DECRYPTION_PLAYBACK_ERROR,
  decryptSample,
  type SampleEncryption,
  type SampleSubsample,
} from "./decrypt-sample.ts";
export { createFrameDecryptor, type FrameToDecrypt } from "./frame-decryptor.ts";
export { decodeBase64Url16, encodeBase64Url, KEY_BYTES, toHex } from "./key-bytes.ts";
export { KeySession, type KeySessionState } from "./key-session.ts";
export {
  CLEAR_KEY_SYSTEM,
  ClearKeyMediaKeys,
  createMediaKeys,
  type KeyStore,
  type MediaKeysListener,
  type MediaKeysOptions,
} from "./media-keys.ts";
export { COMMON_SYSTEM_ID, type PsshBox, parsePsshBoxes } from "./pssh.ts";
