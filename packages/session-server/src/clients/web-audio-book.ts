import {
  type CreateWebAudioPlayerParams,
  type CreateWebAudioPlayerResult,
  type PlaybackOptions,
  type Resources,
  RialtoError,
  WebAudioEvents,
  WebAudioMethods,
} from "@rialto/protocol";
import type { AvMemory } from "../av-memory.ts";
import type { SessionServerLogger } from "../logger.ts";
import { type MediaClock, systemClock } from "../media/media-clock.ts";
import { WebAudioRenderer } from "../web-audio/index.ts";
import type { Client } from "./client-state.ts";
import { HandleAllocator } from "./handle-allocator.ts";

/** What the virtual output device of one player has consumed. */
interface DeviceCounters {
  bytes: number;
  /** SHA-256 over the consumed PCM in order, with the `checksum` sink. */
  readonly hasher: Bun.CryptoHasher | undefined;
}

/** One web-audio player a client created. */
interface PlayerRecord {
  readonly id: number;
  /** The client that created it (the only one that may call it). */
  readonly clientId: number;
  /** Its web-audio partition of the AV buffer: 0 .. maxWebAudioPlayers - 1. */
  readonly partition: number;
  readonly player: WebAudioRenderer;
}

/** Options of a {@link WebAudioBook}. */
export interface WebAudioBookOptions {
  readonly logger: SessionServerLogger;
  /** `supportsWebAudio` and `maxWebAudioPlayers` apply. */
  readonly resources: Resources;
  /**
   * `clock`: players consume at the PCM rate (`realtime`) or at once (`freerun`); `sink`:
   * `checksum` adds a SHA-256 of the consumed PCM to the EndOfStream log line.
   */
  readonly playback: PlaybackOptions;
  /** Time source of the players; default the system clock. */
  readonly clock?: MediaClock;
}

/**
 * The app's web-audio players (SPEC 5, 8, 9): at most `maxWebAudioPlayers` over all its clients
 * (`RESOURCE_EXHAUSTED` beyond; `PERMISSION_DENIED` for any player when `supportsWebAudio` is
 * false), each with its own web-audio partition of the AV buffer (the lowest free one) as its
 * PCM ring, until destroyed or its client's resources are released. Calls naming a player
 * another client created are `NOT_FOUND`, as are unknown ids.
 */
export class WebAudioBook {
  readonly #options: WebAudioBookOptions;
  readonly #capacity: number;
  readonly #partitions: boolean[];
  readonly #players = new Map<number, PlayerRecord>();
  readonly #ids = new HandleAllocator("web-audio player id", (id) => this.#players.has(id));

  constructor(options: WebAudioBookOptions) {
    this.#options = options;
    const { supportsWebAudio, maxWebAudioPlayers } = options.resources;
    this.#capacity = supportsWebAudio ? maxWebAudioPlayers : 0;
    this.#partitions = Array.from({ length: this.#capacity }, () => false);
  }

  /** Each live player's heartbeat, for the health check. */
  heartbeats(): { playerId: number; beat: () => Promise<void> }[] {
    return [...this.#players.values()].map(({ id, player }) => ({
      playerId: id,
      beat: () => player.heartbeat(),
    }));
  }

  /** Players alive over every client. */
  get inUse(): number {
    return this.#players.size;
  }

  /** Creates a player for `client` over a free web-audio partition of `memory`. */
  create(
    client: Client,
    params: CreateWebAudioPlayerParams,
    memory: AvMemory,
  ): CreateWebAudioPlayerResult {
    const method = WebAudioMethods.create.name;
    if (!this.#options.resources.supportsWebAudio) {
      throw new RialtoError(
        "PERMISSION_DENIED",
        `"${method}": this app may not use web audio (its resources say supportsWebAudio false)`,
      );
    }
    const partition = this.#partitions.indexOf(false);
    if (partition < 0) {
      throw new RialtoError(
        "RESOURCE_EXHAUSTED",
        `"${method}": all ${this.#capacity} web-audio players are in use (maxWebAudioPlayers ${this.#capacity})`,
        { details: { maxWebAudioPlayers: this.#capacity } },
      );
    }
    const region = memory.layout.webAudio[partition];
    if (region === undefined) {
      throw new RialtoError(
        "INTERNAL",
        `"${method}": the AV buffer has no web-audio partition ${partition}`,
      );
    }
    const id = this.#ids.allocate();
    const device: DeviceCounters = {
      bytes: 0,
      hasher:
        this.#options.playback.sink === "checksum" ? new Bun.CryptoHasher("sha256") : undefined,
    };
    const player = new WebAudioRenderer({
      playerId: id,
      pcm: params.pcm,
      ring: memory.memory.bytes.subarray(region.offset, region.offset + region.length),
      ringOffset: region.offset,
      clockKind: this.#options.playback.clock,
      clock: this.#options.clock ?? systemClock,
      onPcm: (pcm) => {
        device.bytes += pcm.byteLength;
        device.hasher?.update(pcm);
      },
      onState: (event) => {
        if (event.state === "EndOfStream") this.#logEnd(client, id, player, device);
        // A released client's players go quietly: nobody is left to tell.
        if (!client.released) client.emit(WebAudioEvents.state, event);
      },
    });
    this.#partitions[partition] = true;
    this.#players.set(id, { id, clientId: client.id, partition, player });
    return { playerId: id, region: { offset: region.offset, length: region.length } };
  }

  /** `client`'s player `playerId`; NOT_FOUND otherwise. */
  player(client: Client, playerId: number, method: string): WebAudioRenderer {
    return this.#own(client, playerId, method).player;
  }

  /** Destroys `client`'s player `playerId` and frees its partition. */
  destroy(client: Client, playerId: number): void {
    this.#free(this.#own(client, playerId, WebAudioMethods.destroy.name));
  }

  /** Destroys every player of the client `clientId`; returns how many. */
  releaseClient(clientId: number): number {
    let count = 0;
    for (const record of [...this.#players.values()]) {
      if (record.clientId !== clientId) continue;
      this.#free(record);
      count++;
    }
    return count;
  }

  #own(client: Client, playerId: number, method: string): PlayerRecord {
    const record = this.#players.get(playerId);
    if (record === undefined || record.clientId !== client.id) {
      throw new RialtoError(
        "NOT_FOUND",
        `"${method}": client ${client.id} has no web-audio player ${playerId}`,
      );
    }
    return record;
  }

  #free(record: PlayerRecord): void {
    record.player.destroy();
    this.#players.delete(record.id);
    this.#partitions[record.partition] = false;
  }

  /** The device's totals, logged once per player (process tests compare the checksum). */
  #logEnd(
    client: Client,
    playerId: number,
    player: WebAudioRenderer,
    device: DeviceCounters,
  ): void {
    this.#options.logger.info(
      {
        clientId: client.id,
        playerId,
        consumedFrames: device.bytes / player.format.frameBytes,
        consumedBytes: device.bytes,
        checksum: device.hasher?.digest("hex"),
      },
      "web-audio player reached EndOfStream",
    );
  }
}
