import type { AnyEvent, AnyMethod } from "../rpc/descriptor.ts";
import { ControlChannelEvents, ControlChannelMethods } from "./control-channel.ts";
import { ControlSocketEvents, ControlSocketMethods } from "./control-socket.ts";
import { MediaKeysEvents, MediaKeysMethods } from "./media-keys.ts";
import { PipelineMethods } from "./media-pipeline.ts";
import { PipelineEvents } from "./media-pipeline-events.ts";
import { SessionEvents, SessionMethods } from "./session.ts";
import { ShmPoolMethods } from "./shm-pool.ts";
import { WebAudioEvents, WebAudioMethods } from "./web-audio.ts";

/** Any method or event descriptor. */
export type AnyMessage = AnyMethod | AnyEvent;

/** A group of descriptors keyed by their short name, e.g. {@link PipelineMethods}. */
export type MessageGroup = Readonly<Record<string, AnyMessage>>;

/** The descriptors of a group (distributes over a union of groups). */
export type DescriptorsOf<G> = G extends MessageGroup ? G[keyof G] : never;

/** Descriptors keyed by wire name, each with its precise type. */
export type MessageRegistry<D extends AnyMessage> = { readonly [M in D as M["name"]]: M };

/**
 * Builds a frozen wire-name → descriptor registry from groups; throws on a duplicate wire name
 * (two descriptors for one name would make the receiver's choice arbitrary).
 */
export function buildRegistry<const Groups extends readonly MessageGroup[]>(
  groups: Groups,
): MessageRegistry<DescriptorsOf<Groups[number]>> {
  const registry: Record<string, AnyMessage> = {};
  for (const group of groups) {
    for (const descriptor of Object.values(group)) {
      if (Object.hasOwn(registry, descriptor.name)) {
        throw new Error(`duplicate wire name "${descriptor.name}" in the message registry`);
      }
      registry[descriptor.name] = descriptor;
    }
  }
  return Object.freeze(registry) as MessageRegistry<DescriptorsOf<Groups[number]>>;
}

/**
 * Every message grouped as it is exported to `schemas/<group>.json`: the manager ↔ session
 * server control channel, the daemon control socket, and the client ↔ session server
 * connection split by service (session control + shm pool, media pipeline, media keys, web
 * audio).
 */
export const MESSAGE_GROUPS = {
  "control-channel": buildRegistry([ControlChannelMethods, ControlChannelEvents]),
  "control-socket": buildRegistry([ControlSocketMethods, ControlSocketEvents]),
  session: buildRegistry([SessionMethods, SessionEvents, ShmPoolMethods]),
  "media-pipeline": buildRegistry([PipelineMethods, PipelineEvents]),
  "media-keys": buildRegistry([MediaKeysMethods, MediaKeysEvents]),
  "web-audio": buildRegistry([WebAudioMethods, WebAudioEvents]),
} as const;

/** Name of one entry of {@link MESSAGE_GROUPS}. */
export type MessageGroupName = keyof typeof MESSAGE_GROUPS;

/** Every method and event of every channel, keyed by wire name. */
export const ALL_MESSAGES = buildRegistry([
  ControlChannelMethods,
  ControlChannelEvents,
  ControlSocketMethods,
  ControlSocketEvents,
  SessionMethods,
  SessionEvents,
  ShmPoolMethods,
  PipelineMethods,
  PipelineEvents,
  MediaKeysMethods,
  MediaKeysEvents,
  WebAudioMethods,
  WebAudioEvents,
]);

/** A wire name of any message, e.g. `"pipeline/play"`. */
export type MessageName = keyof typeof ALL_MESSAGES;
