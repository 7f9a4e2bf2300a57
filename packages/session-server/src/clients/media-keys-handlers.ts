import { describeValue, MediaKeysMethods, RialtoError } from "@rialto/protocol";
import { responseBytes } from "../keys/index.ts";
import { KEY_SYSTEM_VERSIONS } from "../keys/media-keys.ts";
import type { ClientRouter, ClientsContext } from "./clients-context.ts";
import { requireRunning } from "./pipeline-handlers.ts";

/**
 * The `keys/*` methods (SPEC 9, Rialto's MediaKeys service) over the app's
 * MediaKeysBook (`context.keys`): ClearKey MediaKeys, key sessions, license requests and JWK-set
 * updates. Every call needs the app Running (INVALID_STATE otherwise) and handles this client
 * created (NOT_FOUND otherwise); an unknown key system is NOT_FOUND. The `keys/licenseRequest`
 * and `keys/keyStatusesChanged` events go to the calling client before the reply.
 */
export function addMediaKeysHandlers(router: ClientRouter, context: ClientsContext): ClientRouter {
  return (
    router
      .handle(MediaKeysMethods.create, ({ keySystem }, client) => {
        requireRunning(context, MediaKeysMethods.create.name);
        const mediaKeysId = context.keys.create(client, keySystem);
        context.logger.info({ clientId: client.id, mediaKeysId, keySystem }, "MediaKeys created");
        return { mediaKeysId };
      })
      .handle(MediaKeysMethods.createKeySession, (params, client) => {
        requireRunning(context, MediaKeysMethods.createKeySession.name);
        return { keySessionId: context.keys.createKeySession(client, params) };
      })
      .handle(MediaKeysMethods.generateRequest, (params, client) => {
        const method = MediaKeysMethods.generateRequest.name;
        requireRunning(context, method);
        context.keys
          .holderOf(client, params.keySessionId, method)
          .generateRequest(
            params.keySessionId,
            params.initDataType,
            Uint8Array.fromBase64(params.initData),
          );
        return {};
      })
      .handle(MediaKeysMethods.updateSession, (params, client) => {
        const method = MediaKeysMethods.updateSession.name;
        requireRunning(context, method);
        const license = responseBytes(params.response, params.responseEncoding);
        context.keys
          .holderOf(client, params.keySessionId, method)
          .updateSession(params.keySessionId, license);
        return {};
      })
      .handle(MediaKeysMethods.closeKeySession, ({ keySessionId }, client) => {
        const method = MediaKeysMethods.closeKeySession.name;
        requireRunning(context, method);
        context.keys.holderOf(client, keySessionId, method).closeKeySession(keySessionId);
        return {};
      })
      .handle(MediaKeysMethods.removeKeySession, ({ keySessionId }, client) => {
        requireRunning(context, MediaKeysMethods.removeKeySession.name);
        context.keys.removeKeySession(client, keySessionId);
        return {};
      })
      .handle(MediaKeysMethods.destroy, ({ mediaKeysId }, client) => {
        requireRunning(context, MediaKeysMethods.destroy.name);
        context.keys.destroy(client, mediaKeysId);
        context.logger.info({ clientId: client.id, mediaKeysId }, "MediaKeys destroyed");
        return {};
      })
      .handle(MediaKeysMethods.containsKey, ({ keySessionId, keyId }, client) => {
        const method = MediaKeysMethods.containsKey.name;
        requireRunning(context, method);
        const holder = context.keys.holderOf(client, keySessionId, method);
        return { supported: holder.containsKey(keySessionId, keyId) };
      })
      .handle(MediaKeysMethods.getCdmKeySessionId, ({ keySessionId }, client) => {
        const method = MediaKeysMethods.getCdmKeySessionId.name;
        requireRunning(context, method);
        const holder = context.keys.holderOf(client, keySessionId, method);
        return { cdmKeySessionId: holder.cdmKeySessionId(keySessionId) };
      })
      // Capabilities answer in any app state: a browser asks them before it plays.
      .handle(MediaKeysMethods.getSupportedKeySystems, () => ({
        keySystems: Object.keys(KEY_SYSTEM_VERSIONS),
      }))
      .handle(MediaKeysMethods.supportsKeySystem, ({ keySystem }) => ({
        supported: Object.hasOwn(KEY_SYSTEM_VERSIONS, keySystem),
      }))
      .handle(MediaKeysMethods.getSupportedKeySystemVersion, ({ keySystem }) => {
        const version = KEY_SYSTEM_VERSIONS[keySystem];
        if (version === undefined || !Object.hasOwn(KEY_SYSTEM_VERSIONS, keySystem)) {
          throw new RialtoError(
            "NOT_FOUND",
            `"${MediaKeysMethods.getSupportedKeySystemVersion.name}": no key system ${describeValue(keySystem)}`,
          );
        }
        return { version };
      })
      // ClearKey takes no server certificate.
      .handle(MediaKeysMethods.isServerCertificateSupported, () => ({ supported: false }))
  );
}
