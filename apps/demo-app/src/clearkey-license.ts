import type { MediaKeys } from "@rialto/client";
import {
  type KeyStatusesChangedEvent,
  type LicenseRequestEvent,
  RialtoError,
} from "@rialto/protocol";
import type { DemoApp } from "./demo-app-session.ts";
import type { JwkSet } from "./encrypted-clip.ts";
import type { LicensePlan } from "./encrypted-file.ts";
import type { LifecycleTimeline } from "./lifecycle-timeline.ts";

/** The key system of the demo. */
export const CLEARKEY = "org.w3.clearkey";

/** Where the license steps are shown: the timeline, and whole lines of the demo's output. */
export interface LicenseOutput {
  readonly timeline: LifecycleTimeline;
  line(text?: string): void;
}

/** The text of a license request (ClearKey's is UTF-8 JSON; base64 is decoded). */
function requestText({ message, messageEncoding }: LicenseRequestEvent): string {
  return messageEncoding === "utf8"
    ? message
    : new TextDecoder().decode(Uint8Array.fromBase64(message));
}

/**
 * The license server's side of ClearKey (W3C EME 9.1): reads the request
 * `{"kids":[...],"type":"temporary"}` and answers with the JWK set of the keys it holds among
 * the ones asked for.
 *
 * @throws RialtoError `INVALID_ARGUMENT` for a request that is not that JSON, `NOT_FOUND` when
 *   it holds none of the keys asked for.
 */
export function serveClearKeyLicense(request: string, held: JwkSet): string {
  let kids: unknown;
  try {
    kids = (JSON.parse(request) as { kids?: unknown }).kids;
  } catch {
    kids = undefined;
  }
  if (!Array.isArray(kids)) {
    throw new RialtoError("INVALID_ARGUMENT", `license server: not a ClearKey request: ${request}`);
  }
  const keys = held.keys.filter((key) => kids.includes(key.kid));
  if (keys.length === 0) {
    throw new RialtoError("NOT_FOUND", `license server: no key for ${JSON.stringify(kids)}`);
  }
  return JSON.stringify({ keys, type: "temporary" });
}

function describeStatuses({ statuses }: KeyStatusesChangedEvent): string {
  return statuses.length === 0
    ? "no keys"
    : statuses.map(({ keyId, status }) => `${keyId} ${status}`).join(", ");
}

/**
 * A key session of an app's client holding the clip's key, obtained through the ClearKey
 * license flow: `createMediaKeys`, `createKeySession`, `generateRequest` with the `cenc` init
 * data, the `licenseRequest` event answered by the demo acting as the license server, and
 * `updateSession` with the JWK set, until every key is `usable`. Every step goes in the
 * timeline (actor `keys <app>`), the request, response and statuses in the output.
 */
export class ClearKeyLicense implements AsyncDisposable {
  readonly mediaKeys: MediaKeys;
  readonly keySessionId: number;
  readonly #app: DemoApp;
  readonly #timeline: LifecycleTimeline;

  private constructor(
    app: DemoApp,
    mediaKeys: MediaKeys,
    keySessionId: number,
    out: LicenseOutput,
  ) {
    this.#app = app;
    this.mediaKeys = mediaKeys;
    this.keySessionId = keySessionId;
    this.#timeline = out.timeline;
  }

  /**
   * Runs the license flow for `clip` on `app`'s (Running) client.
   *
   * @throws RialtoError when a step is refused, no license request came, or a key of the clip
   *   is not `usable` after the update.
   */
  static async acquire(
    app: DemoApp,
    clip: LicensePlan,
    out: LicenseOutput,
  ): Promise<ClearKeyLicense> {
    const actor = `keys ${app.appId}`;
    const record = (what: string) => out.timeline.record(actor, what);
    const mediaKeys = await app.client.createMediaKeys(CLEARKEY);
    record(`createMediaKeys("${CLEARKEY}") → MediaKeys ${mediaKeys.id}`);
    mediaKeys.on("released", () => record("released by the session server"));
    try {
      const keySessionId = await mediaKeys.createKeySession();
      record(`createKeySession() → key session ${keySessionId}`);
      const license = new ClearKeyLicense(app, mediaKeys, keySessionId, out);
      await license.#exchange(clip, out, record);
      return license;
    } catch (error) {
      await mediaKeys.destroy().catch(() => {});
      throw error;
    }
  }

  /** Closes the key session and destroys the MediaKeys, unless the session server freed them. */
  async [Symbol.asyncDispose](): Promise<void> {
    // Leaving Running, the session server frees them itself (and refuses calls).
    if (this.mediaKeys.lifecycle !== "created" || this.#app.client.applicationState !== "Running")
      return;
    const record = (what: string) => this.#timeline.record(`keys ${this.#app.appId}`, what);
    record(`closeKeySession(${this.keySessionId})`);
    await this.mediaKeys.closeKeySession(this.keySessionId);
    record(`destroy() MediaKeys ${this.mediaKeys.id}`);
    await this.mediaKeys.destroy();
  }

  async #exchange(
    clip: LicensePlan,
    out: LicenseOutput,
    record: (what: string) => void,
  ): Promise<void> {
    const { mediaKeys, keySessionId } = this;
    const requests: string[] = [];
    let statuses: KeyStatusesChangedEvent | undefined;
    mediaKeys.on("licenseRequest", (event) => {
      const text = requestText(event);
      requests.push(text);
      record(`licenseRequest(${event.keySessionId}) ${text}`);
    });
    mediaKeys.on("keyStatusesChanged", (event) => {
      statuses = event;
      record(`keyStatusesChanged(${event.keySessionId}) ${describeStatuses(event)}`);
    });
    const what =
      clip.initDataType === "cenc"
        ? `pssh of ${clip.initData.byteLength} bytes`
        : new TextDecoder().decode(clip.initData);
    record(`generateRequest(${keySessionId}, "${clip.initDataType}", ${what})`);
    // The licenseRequest event arrives before the call resolves.
    await mediaKeys.generateRequest(keySessionId, clip.initDataType, clip.initData);
    const request = requests[0];
    if (request === undefined) {
      throw new RialtoError("INTERNAL", `generateRequest(${keySessionId}): no licenseRequest came`);
    }
    const response = serveClearKeyLicense(request, clip.license);
    const keys = (JSON.parse(response) as JwkSet).keys.length;
    out.timeline.record(
      "license server",
      `answers with a JWK set of ${keys === 1 ? "1 key" : `${keys} keys`}`,
    );
    record(`updateSession(${keySessionId}, JWK set)`);
    await mediaKeys.updateSession(keySessionId, response);
    const shown = statuses === undefined ? "none" : describeStatuses(statuses);
    out.line(
      `ClearKey license of "${this.#app.appId}" (${CLEARKEY}; this demo is the license server)`,
    );
    out.line(`  request   ${request}`);
    out.line(`  response  ${response}`);
    out.line(`  statuses  ${shown}`);
    out.line();
    const unusable = clip.keyIds.filter(
      (keyId) => !statuses?.statuses.some((s) => s.keyId === keyId && s.status === "usable"),
    );
    if (unusable.length > 0) {
      throw new RialtoError(
        "INTERNAL",
        `updateSession(${keySessionId}): key ${unusable.join(", ")} is not usable (statuses: ${shown})`,
      );
    }
  }
}
