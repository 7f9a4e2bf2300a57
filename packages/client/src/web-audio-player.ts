import {
  type CreateWebAudioPlayerParams,
  type DeviceInfo,
  type PcmConfig,
  RialtoError,
  type ShmRegion,
  WebAudioEvents,
  WebAudioMethods,
  type WebAudioPlayerState,
} from "@rialto/protocol";
import { Listeners, type MediaHost, MediaLife, type MediaLifecycle } from "./media-host.ts";

/** The events of a {@link WebAudioPlayer}. */
export interface WebAudioPlayerEventMap {
  /** The player's state: `Idle, Playing, Paused, EndOfStream, Failure`. */
  state: { state: WebAudioPlayerState };
  /** The session server freed this player (the app or client went Inactive, or the client was forgotten). */
  released: { playerId: number };
}

/**
 * A web-audio PCM player in the session server (SPEC 6 and 9, Rialto's `IWebAudioPlayer`),
 * created by `RialtoClient.createWebAudioPlayer`. PCM goes into the player's ring buffer in the
 * AV shared memory ({@link writeBuffer}), never over the socket; the server consumes it at the
 * PCM rate (or at once with the `freerun` clock). Calls reject with the server's `RialtoError`
 * (INVALID_STATE while the app is not Running or the player is at EndOfStream), and with
 * INVALID_STATE once the player is destroyed or released.
 */
export class WebAudioPlayer {
  /** The session server's id of this player. */
  readonly id: number;
  /** Its PCM format. */
  readonly pcm: Readonly<PcmConfig>;
  /** Bytes of one frame (one sample of every channel). */
  readonly frameBytes: number;
  /** Its ring buffer: a web-audio partition of the AV shared memory. */
  readonly region: Readonly<ShmRegion>;
  readonly #host: MediaHost;
  /** The params of every call that names only the player. */
  readonly #ref: { readonly playerId: number };
  readonly #life: MediaLife;
  readonly #listeners = new Listeners<WebAudioPlayerEventMap>();
  #state: WebAudioPlayerState = "Idle";
  /** Writes run one after another: each asks where the free space is, then fills it. */
  #writes: Promise<unknown> = Promise.resolve();

  /** @internal Use {@link WebAudioPlayer.create} (through `RialtoClient.createWebAudioPlayer`). */
  constructor(host: MediaHost, id: number, pcm: PcmConfig, region: ShmRegion) {
    this.#host = host;
    this.id = id;
    this.#ref = { playerId: id };
    this.pcm = pcm;
    this.frameBytes = (pcm.channels * pcm.sampleSize) / 8;
    this.region = region;
    this.#life = new MediaLife(`web-audio player ${id}`);
    this.#life.track(
      host.onEvent(WebAudioEvents.state, ({ playerId, state }) => {
        if (playerId !== this.id) return;
        this.#state = state;
        this.#listeners.emit("state", { state });
      }),
    );
  }

  /**
   * Creates a player in the session server: RESOURCE_EXHAUSTED past `maxWebAudioPlayers`,
   * PERMISSION_DENIED when the app's resources do not allow web audio.
   */
  static async create(
    host: MediaHost,
    params: CreateWebAudioPlayerParams,
  ): Promise<WebAudioPlayer> {
    const { playerId, region } = await host.call(WebAudioMethods.create, params);
    return new WebAudioPlayer(host, playerId, params.pcm, region);
  }

  /** `created`, `destroyed` (by {@link destroy}) or `released` (freed by the session server). */
  get lifecycle(): MediaLifecycle {
    return this.#life.lifecycle;
  }

  /** The state last reported by the session server (`Idle` at first). */
  get state(): WebAudioPlayerState {
    return this.#state;
  }

  /** Listens for one of {@link WebAudioPlayerEventMap}; returns an unsubscribe. */
  on<K extends keyof WebAudioPlayerEventMap>(
    event: K,
    listener: (payload: WebAudioPlayerEventMap[K]) => void,
  ): () => void {
    return this.#listeners.add(event, listener);
  }

  /** Frames that fit into the ring now. */
  async getBufferAvailable(): Promise<number> {
    this.#life.assertLive("getBufferAvailable");
    return (await this.#host.call(WebAudioMethods.getBufferAvailable, this.#ref)).availableFrames;
  }

  /**
   * Copies as many whole frames of `data` (interleaved PCM in the player's format; its length a
   * multiple of {@link frameBytes}) as fit into the ring in shared memory, wrapping around its end
   * as the server says, and commits them; resolves with the frames written (0 when the ring is
   * full: ask again once some have played). Needs the AV memory mapped (INVALID_STATE before
   * `setApplicationState("Running")`). Writes of one player run in call order.
   */
  writeBuffer(data: Uint8Array): Promise<number> {
    const write = this.#writes.then(() => this.#write(data));
    this.#writes = write.catch(() => {});
    return write;
  }

  /** Starts (or resumes) playing; allowed before any data (deferred play). */
  async play(): Promise<void> {
    this.#life.assertLive("play");
    await this.#host.call(WebAudioMethods.play, this.#ref);
  }

  /** Pauses; buffered frames stay. */
  async pause(): Promise<void> {
    this.#life.assertLive("pause");
    await this.#host.call(WebAudioMethods.pause, this.#ref);
  }

  /** No more data: what is buffered plays out, then the state becomes `EndOfStream`. */
  async setEos(): Promise<void> {
    this.#life.assertLive("setEos");
    await this.#host.call(WebAudioMethods.setEos, this.#ref);
  }

  /** Frames written and not played yet. */
  async getBufferDelay(): Promise<number> {
    this.#life.assertLive("getBufferDelay");
    return (await this.#host.call(WebAudioMethods.getBufferDelay, this.#ref)).delayFrames;
  }

  /** The output device: preferred frames per write, ring capacity in frames, deferred play. */
  async getDeviceInfo(): Promise<DeviceInfo> {
    this.#life.assertLive("getDeviceInfo");
    return await this.#host.call(WebAudioMethods.getDeviceInfo, this.#ref);
  }

  /** Sets the volume, 0 .. 1. */
  async setVolume(volume: number): Promise<void> {
    this.#life.assertLive("setVolume");
    await this.#host.call(WebAudioMethods.setVolume, { ...this.#ref, volume });
  }

  /** The volume, 0 .. 1. */
  async getVolume(): Promise<number> {
    this.#life.assertLive("getVolume");
    return (await this.#host.call(WebAudioMethods.getVolume, this.#ref)).volume;
  }

  /** Destroys the player and frees its partition. Resolves at once if already gone. */
  async destroy(): Promise<void> {
    await this.#life.destroy(() => this.#host.call(WebAudioMethods.destroy, this.#ref));
  }

  /** @internal The session server freed this player. */
  markReleased(): void {
    if (this.#life.release()) this.#listeners.emit("released", { playerId: this.id });
  }

  async #write(data: Uint8Array): Promise<number> {
    this.#life.assertLive("writeBuffer");
    if (data.byteLength % this.frameBytes !== 0) {
      throw new RialtoError(
        "INVALID_ARGUMENT",
        `writeBuffer: ${data.byteLength} bytes are not whole ${this.frameBytes}-byte frames`,
      );
    }
    const mapping = this.#host.sharedMemory?.memory.bytes;
    if (mapping === undefined) {
      throw new RialtoError(
        "INVALID_STATE",
        'writeBuffer: the AV shared memory is not mapped (call setApplicationState("Running") first)',
      );
    }
    const space = await this.#host.call(WebAudioMethods.getBufferAvailable, this.#ref);
    const frames = Math.min(data.byteLength / this.frameBytes, space.availableFrames);
    if (frames === 0) return 0;
    const bytes = frames * this.frameBytes;
    const mainBytes = Math.min(bytes, space.main.length);
    this.#checkRegion(space.main, mainBytes, mapping);
    this.#checkRegion(space.wrap, bytes - mainBytes, mapping);
    mapping.set(data.subarray(0, mainBytes), space.main.offset);
    mapping.set(data.subarray(mainBytes, bytes), space.wrap.offset);
    await this.#host.call(WebAudioMethods.writeBuffer, {
      playerId: this.id,
      numberOfFrames: frames,
    });
    return frames;
  }

  /** `used` bytes at `region` must lie in this player's partition (and so in the mapping). */
  #checkRegion(region: ShmRegion, used: number, mapping: Uint8Array): void {
    const end = region.offset + used;
    const partitionEnd = this.region.offset + this.region.length;
    if (
      used > region.length ||
      region.offset < this.region.offset ||
      end > partitionEnd ||
      end > mapping.byteLength
    ) {
      throw new RialtoError(
        "PROTOCOL_ERROR",
        `writeBuffer: the server's region ${JSON.stringify(region)} for ${used} bytes lies outside player ${this.id}'s partition ${JSON.stringify(this.region)}`,
      );
    }
  }
}
