import { describe, expect, it } from "bun:test";
import { RialtoError } from "../errors.ts";
import {
  ALL_MESSAGES,
  AppConfig,
  AppId,
  ControlChannelEvents,
  ControlChannelMethods,
  ControlSocketEvents,
  ControlSocketMethods,
  MESSAGE_GROUPS,
  MediaKeysEvents,
  MediaKeysMethods,
  PipelineEvents,
  PipelineMethods,
  SessionMethods,
  ShmPoolMethods,
  WebAudioMethods,
} from "../index.ts";
import { compileValidator } from "../rpc/descriptor.ts";
import { type Json, toJsonSchema } from "./schema-export.ts";

const appId = compileValidator(AppId);

describe("AppId", () => {
  it.each(["netflix", "a", "App_1.beta-2", "x".repeat(64)])("accepts %p", (id) => {
    expect(appId.check(id)).toBe(true);
  });

  it.each(["", "-app", ".hidden", "a/b", "../etc", "a b", "ä", "x".repeat(65)])(
    "rejects %p",
    (id) => {
      expect(appId.check(id)).toBe(false);
    },
  );
});

describe("closed objects", () => {
  it("reject an extra field at the top level and in nested objects", () => {
    const attach = PipelineMethods.attachSource.params;
    const source = { type: "video", mimeType: "video/h264", video: { width: 1920, height: 1080 } };
    expect(attach.check({ pipelineId: 1, source })).toBe(true);
    expect(attach.check({ pipelineId: 1, source, extra: 1 })).toBe(false);
    expect(
      attach.check({
        pipelineId: 1,
        source: { ...source, video: { width: 1, height: 1, depth: 8 } },
      }),
    ).toBe(false);
  });

  it("name the offending field in the error", () => {
    expect(() =>
      ControlChannelMethods.setState.params.assert(
        { state: "Active", force: true },
        "control/setState",
      ),
    ).toThrow(RialtoError);
    expect(() => PipelineMethods.play.params.assert({ pipelineId: -1 }, "pipeline/play")).toThrow(
      /pipeline\/play: \/pipelineId must be >= 0/,
    );
  });
});

describe("bounds", () => {
  it("enforce integer handles and counts", () => {
    const haveData = PipelineMethods.haveData.params;
    const ok = { pipelineId: 0, requestId: 4_294_967_295, status: "Eos", numFrames: 24 };
    expect(haveData.check(ok)).toBe(true);
    expect(haveData.check({ ...ok, numFrames: 25 })).toBe(false);
    expect(haveData.check({ ...ok, numFrames: 1.5 })).toBe(false);
    expect(haveData.check({ ...ok, requestId: 4_294_967_296 })).toBe(false);
    expect(haveData.check({ ...ok, status: "OK" })).toBe(false);
  });

  it("enforce volume and playback-rate ranges", () => {
    expect(
      PipelineMethods.setVolume.params.check({
        pipelineId: 1,
        volume: 1,
        durationMs: 500,
        easing: "InCubic",
      }),
    ).toBe(true);
    expect(PipelineMethods.setVolume.params.check({ pipelineId: 1, volume: 1.01 })).toBe(false);
    expect(PipelineMethods.setPlaybackRate.params.check({ pipelineId: 1, rate: 0 })).toBe(false);
    expect(PipelineMethods.setPlaybackRate.params.check({ pipelineId: 1, rate: 0.5 })).toBe(true);
  });

  it("enforce string lengths and formats", () => {
    const generate = MediaKeysMethods.generateRequest.params;
    expect(
      generate.check({ keySessionId: 1, initDataType: "keyids", initData: "eyJraWRzIjpbXX0=" }),
    ).toBe(true);
    expect(
      generate.check({ keySessionId: 1, initDataType: "keyids", initData: "not base64!" }),
    ).toBe(false);
    expect(
      generate.check({ keySessionId: 1, initDataType: "keyids", initData: "A".repeat(87_384) }),
    ).toBe(true);
    expect(
      generate.check({ keySessionId: 1, initDataType: "keyids", initData: "A".repeat(87_388) }),
    ).toBe(false);
    const statuses = MediaKeysEvents.keyStatusesChanged.payload;
    expect(
      statuses.check({
        keySessionId: 1,
        statuses: [{ keyId: "0123456789abcdef0123456789abcdef", status: "usable" }],
      }),
    ).toBe(true);
    expect(
      statuses.check({ keySessionId: 1, statuses: [{ keyId: "0123", status: "usable" }] }),
    ).toBe(false);
  });

  it("bound arrays", () => {
    const status = { keyId: "0123456789abcdef0123456789abcdef", status: "expired" };
    const payload = { keySessionId: 1, statuses: Array.from({ length: 129 }, () => status) };
    expect(MediaKeysEvents.keyStatusesChanged.payload.check(payload)).toBe(false);
  });
});

describe("representative messages", () => {
  it("accept a full SetConfiguration and reject a relative socket path", () => {
    const params = {
      appId: "YouTube",
      socketPath: "/run/user/1000/rialto/youtube.sock",
      socketPermissions: 0o660,
      targetState: "Active",
      resources: { maxPlaybackSessions: 2, supportsWebAudio: true, maxWebAudioPlayers: 1 },
      logLevel: "info",
      playback: { clock: "freerun", sink: "checksum" },
      clientGracePeriodMs: 30_000,
    };
    expect(ControlChannelMethods.setConfiguration.params.check(params)).toBe(true);
    expect(
      ControlChannelMethods.setConfiguration.params.check({
        ...params,
        socketPath: "youtube.sock",
      }),
    ).toBe(false);
    expect(
      ControlChannelMethods.setConfiguration.params.check({ ...params, socketPermissions: 0o1777 }),
    ).toBe(false);
  });

  it("accept an AppConfig with every field optional, and bound its env", () => {
    const config = compileValidator(AppConfig);
    expect(config.check({})).toBe(true);
    expect(
      config.check({
        sessionManagementSocketName: "app.sock",
        env: { GST_DEBUG: "3" },
        allowedUids: [1000],
      }),
    ).toBe(true);
    expect(config.check({ sessionManagementSocketName: ".." })).toBe(false);
    expect(config.check({ env: { "bad-name": "x" } })).toBe(false);
    expect(config.check({ resources: { maxPlaybackSessions: 17 } })).toBe(false);
  });

  it("accept each monitor message and reject an unknown event", () => {
    const monitor = ControlSocketEvents.monitorMessage.payload;
    expect(
      monitor.check({ type: "client_state", appId: "a", isStarted: true, state: "Active" }),
    ).toBe(true);
    expect(monitor.check({ type: "client_state_end", count: 1 })).toBe(true);
    expect(
      monitor.check({
        type: "client_event",
        appId: "a",
        event: "state_changed",
        state: "Inactive",
      }),
    ).toBe(true);
    expect(monitor.check({ type: "client_event", appId: "a", event: "saved" })).toBe(false);
    expect(monitor.check({ type: "client_state_end", count: 1, appId: "a" })).toBe(false);
  });

  it("accept a session registration with a reconnecting client id", () => {
    const register = SessionMethods.register.params;
    expect(
      register.check({ protocolVersion: "1.0.0", clientId: 7, fdToken: "ab".repeat(16) }),
    ).toBe(true);
    expect(register.check({ protocolVersion: "1.0" })).toBe(false);
    expect(register.check({ protocolVersion: "1.0.0", clientId: 0 })).toBe(false);
  });

  it("accept shm-pool replies in the block or inline", () => {
    const reply = ShmPoolMethods.call.result;
    expect(reply.check({ placement: "block", offset: 0, length: 10 })).toBe(true);
    expect(reply.check({ placement: "inline", result: { keySessionId: 3 } })).toBe(true);
    expect(reply.check({ placement: "elsewhere", offset: 0, length: 10 })).toBe(false);
    expect(ShmPoolMethods.registerPool.params.check({ size: 4096, fdTag: 1 })).toBe(false);
  });

  it("accept a web-audio PCM format and reject odd sample sizes", () => {
    const create = WebAudioMethods.create.params;
    const pcm = {
      rate: 48_000,
      channels: 2,
      sampleSize: 16,
      isBigEndian: false,
      isSigned: true,
      isFloat: false,
    };
    expect(create.check({ mimeType: "audio/x-raw", pcm })).toBe(true);
    expect(create.check({ mimeType: "audio/x-raw", pcm: { ...pcm, sampleSize: 12 } })).toBe(false);
    expect(create.check({ mimeType: "audio/mpeg", pcm })).toBe(false);
  });

  it("carry the shared-memory region of a needMediaData request on the wire", () => {
    const need = PipelineEvents.needMediaData.payload;
    const event = {
      pipelineId: 1,
      sourceId: 2,
      requestId: 3,
      frameCount: 3,
      region: { offset: 0, length: 1024 },
    };
    expect(need.check(event)).toBe(true);
    expect(need.check({ ...event, frameCount: 0 })).toBe(false);
    expect(need.check({ ...event, region: { offset: -1, length: 1 } })).toBe(false);
  });
});

describe("ALL_MESSAGES", () => {
  it("holds every descriptor of every group under its wire name, once", () => {
    const groups = [
      ControlChannelMethods,
      ControlChannelEvents,
      ControlSocketMethods,
      ControlSocketEvents,
      SessionMethods,
      ShmPoolMethods,
      PipelineMethods,
      PipelineEvents,
      MediaKeysMethods,
      MediaKeysEvents,
      WebAudioMethods,
    ];
    for (const group of groups) {
      for (const descriptor of Object.values(group)) {
        expect(ALL_MESSAGES[descriptor.name as keyof typeof ALL_MESSAGES]).toBe(
          descriptor as never,
        );
      }
    }
    const grouped = Object.values(MESSAGE_GROUPS).flatMap((registry) => Object.keys(registry));
    expect(grouped.sort()).toEqual(Object.keys(ALL_MESSAGES).sort());
  });

  it("uses service/method wire names", () => {
    for (const name of Object.keys(ALL_MESSAGES)) {
      expect(name).toMatch(
        /^(control|manager|monitor|session|shm|pipeline|keys|webAudio)\/[a-z][A-Za-z]*$/,
      );
    }
  });
});

/** Where a schema lets unbounded or unknown data through, as `path: problem`. */
function looseSpots(schema: Json, path: string): string[] {
  if (typeof schema !== "object" || schema === null || Array.isArray(schema)) return [];
  const spots: string[] = [];
  const has = (key: string) => Object.hasOwn(schema, key);
  if (has("const") || has("enum")) return [];
  for (const branch of Array.isArray(schema.anyOf) ? schema.anyOf : [])
    spots.push(...looseSpots(branch, path));
  switch (schema.type) {
    case "object":
      if (schema.additionalProperties !== false) spots.push(`${path}: open object`);
      if (has("patternProperties") && !has("maxProperties"))
        spots.push(`${path}: unbounded record`);
      for (const [key, value] of Object.entries(
        (schema.properties ?? {}) as Record<string, Json>,
      )) {
        spots.push(...looseSpots(value, `${path}.${key}`));
      }
      for (const value of Object.values((schema.patternProperties ?? {}) as Record<string, Json>)) {
        spots.push(...looseSpots(value, `${path}[*]`));
      }
      break;
    case "array":
      if (!has("maxItems")) spots.push(`${path}: unbounded array`);
      spots.push(...looseSpots(schema.items ?? null, `${path}[]`));
      break;
    case "string":
      if (!has("maxLength")) spots.push(`${path}: unbounded string`);
      break;
    case "number":
    case "integer":
      if (
        !(has("minimum") || has("exclusiveMinimum")) ||
        !(has("maximum") || has("exclusiveMaximum"))
      ) {
        spots.push(`${path}: unbounded number`);
      }
      break;
    case "boolean":
      break;
    default:
      if (!has("anyOf")) spots.push(`${path}: unconstrained value`);
  }
  return spots;
}

describe("every message schema", () => {
  // The inline shm-pool result is checked against the called method's own result schema.
  const allowed = ["shm/call result.result: unconstrained value"];

  it("is closed and bounded everywhere (peers may be hostile)", () => {
    const spots: string[] = [];
    for (const descriptor of Object.values(ALL_MESSAGES)) {
      const parts =
        descriptor.kind === "method"
          ? { params: descriptor.params.schema, result: descriptor.result.schema }
          : { payload: descriptor.payload.schema };
      for (const [part, schema] of Object.entries(parts)) {
        spots.push(...looseSpots(toJsonSchema(schema) as Json, `${descriptor.name} ${part}`));
      }
    }
    expect(spots).toEqual(allowed);
  });
});
