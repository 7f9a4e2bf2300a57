import { describeValue, RialtoError, toRialtoError } from "../errors.ts";
import { FrameDecoder } from "../framing/frame-decoder.ts";
import { encodeJsonFrame } from "../framing/frame-encoder.ts";
import { DEFAULT_MAX_FRAME_LENGTH, FrameType } from "../framing/frame-header.ts";
import { DEFAULT_MAX_JSON_DEPTH } from "../framing/json-depth.ts";
import type { AnyEvent, AnyMethod, ParamsOf, PayloadOf, ResultOf } from "./descriptor.ts";
import { Envelopes, type RequestEnvelope, type ResponseEnvelope } from "./envelope.ts";
import type { MethodRouter } from "./method-router.ts";
import { type PendingCall, PendingCalls } from "./pending-calls.ts";
import type { Transport } from "./transport.ts";

/** Default call deadline in milliseconds (SPEC 7). */
export const DEFAULT_CALL_TIMEOUT_MS = 3000;

/**
 * Decides how a request is run; the default runs it. A reply cache (retry-RPC) plugs in here:
 * it may answer from the cache instead of calling `run`, or return undefined to send nothing.
 */
export type RequestGate<Data> = (
  request: RequestEnvelope,
  peer: RpcPeer<Data>,
  run: () => ResponseEnvelope | Promise<ResponseEnvelope>,
) => ResponseEnvelope | undefined | Promise<ResponseEnvelope | undefined>;

/** Options of {@link RpcPeer}. */
export interface RpcPeerOptions<Data> {
  /** Tag used in error messages, e.g. `client` gives `[client] timeout ...`. */
  name?: string;
  /** The byte stream; may also be given later with {@link RpcPeer.attach}. */
  transport?: Transport;
  /** Handlers for requests the other side sends. Without one, every request gets UNKNOWN_METHOD. */
  router?: MethodRouter<RpcPeer<Data>>;
  /** Default deadline of {@link RpcPeer.call} in ms (default 3000). */
  timeoutMs?: number;
  /** Maximum frame body in bytes, both ways (default 1 MiB). */
  maxFrameLength?: number;
  /**
   * Maximum body accepted from the peer, when smaller than `maxFrameLength` (e.g. before it has
   * registered); can be changed later with {@link RpcPeer.maxIncomingFrameLength}.
   */
  maxIncomingFrameLength?: number;
  /** Deepest nesting of arrays/objects accepted in a received body (default 64); checked before parsing. */
  maxJsonDepth?: number;
  /**
   * How long a frame may stay incomplete, in ms (default: no limit). A peer that starts a frame
   * and does not finish it within this time gets a PROTOCOL_ERROR notice and is disconnected,
   * so it cannot hold the partial frame's memory for ever.
   */
  frameTimeoutMs?: number;
  /**
   * What a lost transport does to pending calls: `"reject"` them (default), or `"hold"` them and
   * send them again on the next {@link RpcPeer.attach} (retry-RPC), deadlines still running.
   */
  onDisconnect?: "reject" | "hold";
  /** Runs every incoming request (reply caches plug in here). */
  requestGate?: RequestGate<Data>;
  /** Non-fatal trouble caused by the peer (bad event, stray reply, notice); for logging. */
  onError?: (error: RialtoError) => void;
  /** The transport went away; `cause` is set unless it was a clean close. */
  onTransportClose?: (cause: RialtoError | undefined) => void;
  /** Per-connection state available to handlers as `peer.data`. */
  data?: Data;
  /**
   * When set, every request carries `eventAck`: this value when the request is first encoded
   * (retry-RPC: the highest consecutive event seq the caller has seen).
   */
  eventAck?: () => number;
}

/** Options of one call. */
export interface CallOptions {
  /** Deadline in ms for this call (default: the peer's `timeoutMs`). */
  timeoutMs?: number;
  /**
   * A connection-control call (e.g. a registration): written even while the peer is
   * {@link RpcPeer.pause | paused}, and rejected with CONNECTION_LOST instead of held when the
   * transport it went out on is lost.
   */
  control?: boolean;
}

type Listener = (payload: unknown, seq?: number) => void;

const textDecoder = new TextDecoder("utf-8", { fatal: true });

/**
 * One end of an RPC connection: typed calls with deadlines, typed events both ways, handlers for
 * the other side's calls. Symmetric, so the same engine serves client, server and control links.
 * Closing rejects every pending call with the cause kept.
 */
export class RpcPeer<Data = undefined> implements AsyncDisposable {
  /** Per-connection state (e.g. the client id once registered). */
  data: Data;
  readonly name: string;
  readonly #options: RpcPeerOptions<Data>;
  readonly #maxFrameLength: number;
  readonly #pending = new PendingCalls((call) =>
    call.reject(
      new RialtoError(
        "TIMEOUT",
        `[${this.name}] timeout after ${call.timeoutMs} ms calling "${call.method}"`,
      ),
    ),
  );
  readonly #listeners = new Map<string, Set<Listener>>();
  readonly #validators = new Map<string, AnyEvent["payload"]>();
  #transport: Transport | undefined;
  #decoder: FrameDecoder;
  #maxIncomingFrameLength: number;
  readonly #maxJsonDepth: number;
  #frameTimer: ReturnType<typeof setTimeout> | undefined;
  /** The last error notice the peer sent on the current transport: the likely cause of its close. */
  #notice: RialtoError | undefined;
  /** Why the last transport was lost (a notice it ended with, or its close cause). */
  #lastLoss: RialtoError | undefined;
  #nextId = 1;
  #closed: RialtoError | undefined;
  #paused = false;

  constructor(options: RpcPeerOptions<Data> = {}) {
    this.#options = options;
    this.name = options.name ?? "rpc";
    this.data = options.data as Data;
    this.#maxFrameLength = options.maxFrameLength ?? DEFAULT_MAX_FRAME_LENGTH;
    this.#maxIncomingFrameLength = Math.min(
      options.maxIncomingFrameLength ?? this.#maxFrameLength,
      this.#maxFrameLength,
    );
    this.#maxJsonDepth = options.maxJsonDepth ?? DEFAULT_MAX_JSON_DEPTH;
    this.#decoder = this.#newDecoder();
    if (options.transport !== undefined) this.attach(options.transport);
  }

  #newDecoder(): FrameDecoder {
    return new FrameDecoder({
      maxFrameLength: this.#maxIncomingFrameLength,
      maxJsonDepth: this.#maxJsonDepth,
    });
  }

  /** Largest body accepted from the peer, in bytes (at most `maxFrameLength`). */
  get maxIncomingFrameLength(): number {
    return this.#maxIncomingFrameLength;
  }

  /** Changes the largest body accepted from the peer, from its next frame on. */
  set maxIncomingFrameLength(bytes: number) {
    this.#maxIncomingFrameLength = Math.min(bytes, this.#maxFrameLength);
    this.#decoder.maxFrameLength = this.#maxIncomingFrameLength;
  }

  /** Bytes of an incomplete frame held from the peer. */
  get bufferedIncomingBytes(): number {
    return this.#decoder.bufferedBytes;
  }

  /** True once {@link close} ran: no more calls, events or transports. */
  get isClosed(): boolean {
    return this.#closed !== undefined;
  }

  /** True while a transport is attached and open. */
  get isConnected(): boolean {
    return this.#transport !== undefined;
  }

  /** Calls in flight. */
  get pendingCalls(): number {
    return this.#pending.size;
  }

  /** Highest consecutive request id whose call has settled; sent as `ack` on every request. */
  get repliesSeen(): number {
    return this.#pending.highestSettled;
  }

  /** The attached transport, if any. */
  get transport(): Transport | undefined {
    return this.#transport;
  }

  /** True between {@link pause} and {@link resume}. */
  get isPaused(): boolean {
    return this.#paused;
  }

  /**
   * Stops writing calls: new and held calls stay pending (deadlines running) until
   * {@link resume}; only `control` calls go out. Retry-RPC pauses while it registers again.
   */
  pause(): void {
    this.#paused = true;
  }

  /**
   * Ends a {@link pause}: every pending call not yet written on this transport goes out, in id
   * order. Returns how many of them had gone out before (retransmissions).
   */
  resume(): number {
    this.#paused = false;
    return this.#writePending();
  }

  /**
   * Rejects every pending call with `cause` but stays open (retry-RPC: the server lost this
   * client's state, so held calls cannot be answered exactly once). Returns how many.
   */
  rejectPending(cause: RialtoError): number {
    const count = this.#pending.size;
    this.#rejectAll(cause);
    return count;
  }

  /**
   * Starts using `transport`. Calls held from a lost transport are sent again, in id order (once
   * {@link resume}d if paused), so a server with a reply cache answers each exactly once.
   */
  attach(transport: Transport): void {
    if (this.#closed !== undefined) {
      transport.close(this.#closed);
      return;
    }
    this.#transport?.close();
    this.#transport = transport;
    this.#notice = undefined;
    this.#lastLoss = undefined;
    this.#clearFrameTimer();
    this.#decoder = this.#newDecoder();
    transport.start({
      data: (bytes) => {
        if (this.#transport === transport) this.#receive(bytes);
      },
      close: (cause) => {
        if (this.#transport === transport) this.#lost(transport, cause);
      },
    });
    if (!this.#paused) this.#writePending();
  }

  /** Calls `method` on the other side; resolves with its validated result or rejects a RialtoError. */
  call<M extends AnyMethod>(
    method: M,
    params: ParamsOf<M>,
    options: CallOptions = {},
  ): Promise<ResultOf<M>> {
    if (this.#closed !== undefined)
      return Promise.reject(this.#callError(method.name, this.#closed));
    let frame: Uint8Array;
    const id = this.#nextId++;
    try {
      method.params.assert(params, `"${method.name}" params`);
      const ack = this.#pending.highestSettled;
      const eventAck = this.#options.eventAck;
      const envelope =
        eventAck === undefined
          ? { id, method: method.name, params, ack }
          : { id, method: method.name, params, ack, eventAck: eventAck() };
      frame = encodeJsonFrame(FrameType.Request, envelope, this.#maxFrameLength);
    } catch (error) {
      this.#pending.skip(id);
      return Promise.reject(toRialtoError(error));
    }
    const timeoutMs = options.timeoutMs ?? this.#options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    return new Promise<ResultOf<M>>((resolve, reject) => {
      const deadline = performance.now() + timeoutMs;
      const call: PendingCall = {
        method: method.name,
        frame,
        resolve: resolve as (result: unknown) => void,
        reject,
        deadline,
        timeoutMs,
        validate: method.result,
        control: options.control === true,
        sentOn: undefined,
        everSent: false,
      };
      this.#pending.add(id, call);
      if (call.control && this.#transport === undefined && this.#lastLoss !== undefined) {
        // A control call cannot wait for a transport: the one it was meant for is already gone.
        this.#pending.settle(id);
        reject(this.#callError(method.name, this.#lastLoss));
        return;
      }
      if (!this.#paused || call.control) this.#write(call);
    });
  }

  /** Sends an event to the other side (fire and forget). Throws if the payload is invalid. */
  emit<E extends AnyEvent>(event: E, payload: PayloadOf<E>, seq?: number): boolean {
    if (this.#closed !== undefined || this.#transport === undefined) return false;
    event.payload.assert(payload, `"${event.name}" payload`);
    const envelope =
      seq === undefined ? { event: event.name, payload } : { event: event.name, payload, seq };
    return this.#transport.write(encodeJsonFrame(FrameType.Event, envelope, this.#maxFrameLength));
  }

  /** Listens for `event` from the other side; payloads are validated first. Returns an unsubscribe. */
  on<E extends AnyEvent>(
    event: E,
    listener: (payload: PayloadOf<E>, seq?: number) => void,
  ): () => void {
    let set = this.#listeners.get(event.name);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(event.name, set);
      this.#validators.set(event.name, event.payload);
    }
    const entry = listener as Listener;
    set.add(entry);
    return () => set.delete(entry);
  }

  /**
   * Closes for good: the transport is closed and every pending call rejects with `cause` (default
   * CONNECTION_LOST) named in its error. Idempotent.
   */
  close(cause?: RialtoError): void {
    if (this.#closed !== undefined) return;
    this.#closed = cause ?? new RialtoError("CONNECTION_LOST", `[${this.name}] connection closed`);
    const transport = this.#transport;
    this.#transport = undefined;
    this.#clearFrameTimer();
    transport?.close(cause);
    this.#rejectAll(this.#closed);
    this.#pending.dispose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  /** Sends raw bytes (tests use it to play a hostile peer). */
  writeRaw(bytes: Uint8Array): boolean {
    return this.#transport?.write(bytes) ?? false;
  }

  /** Writes the call on the current transport unless it is already there; true when written. */
  #write(call: PendingCall): boolean {
    const transport = this.#transport;
    if (transport === undefined || call.sentOn === transport) return false;
    if (!transport.write(call.frame)) return false;
    call.sentOn = transport;
    call.everSent = true;
    return true;
  }

  /** Writes every pending call not yet on this transport; returns how many were resent. */
  #writePending(): number {
    let resent = 0;
    // Map iteration follows insertion order, which is id order.
    for (const [, call] of this.#pending.entries()) {
      const before = call.everSent;
      if (this.#write(call) && before) resent++;
    }
    return resent;
  }

  #lost(transport: Transport, cause: RialtoError | undefined): void {
    this.#transport = undefined;
    this.#clearFrameTimer();
    // A peer that refuses us says why in a notice before it closes (e.g. PERMISSION_DENIED):
    // that, not a bare CONNECTION_LOST, is what the calls on this connection failed of.
    const lost =
      this.#notice ??
      cause ??
      new RialtoError("CONNECTION_LOST", `[${this.name}] connection closed by peer`);
    this.#lastLoss = lost;
    for (const [id, call] of [...this.#pending.entries()]) {
      if (!call.control || call.sentOn !== transport) continue;
      this.#pending.settle(id);
      call.reject(this.#callError(call.method, lost));
    }
    this.#options.onTransportClose?.(cause);
    if (this.#closed !== undefined) return;
    if (this.#options.onDisconnect === "hold") return;
    this.close(lost);
  }

  #rejectAll(cause: RialtoError): void {
    for (const call of this.#pending.settleAll()) call.reject(this.#callError(call.method, cause));
  }

  #callError(method: string, cause: RialtoError): RialtoError {
    return new RialtoError(cause.code, `[${this.name}] "${method}" failed: ${cause.message}`, {
      cause,
    });
  }

  #receive(bytes: Uint8Array): void {
    let failure: RialtoError | undefined;
    try {
      failure = this.#decoder.push(bytes, (frame) =>
        this.#onFrame(frame.type, frame.body, frame.tooDeep === true),
      );
    } catch (error) {
      // #onFrame answers every frame itself; reaching here is a bug, and the stream's state is
      // unknown: the peer is told and disconnected rather than left unanswered.
      failure = new RialtoError(
        "INTERNAL",
        `[${this.name}] failed to handle a frame: ${toRialtoError(error).message}`,
        { cause: error },
      );
    }
    if (failure !== undefined) {
      this.#clearFrameTimer();
      this.#sendNotice(failure);
      this.#transport?.close(failure);
      return;
    }
    this.#watchIncompleteFrame();
  }

  /** Arms the frame deadline while a frame is incomplete; disarms it once none is. */
  #watchIncompleteFrame(): void {
    const timeoutMs = this.#options.frameTimeoutMs;
    if (timeoutMs === undefined) return;
    if (this.#decoder.bufferedBytes === 0) {
      this.#clearFrameTimer();
      return;
    }
    if (this.#frameTimer !== undefined) return;
    const transport = this.#transport;
    this.#frameTimer = setTimeout(() => {
      this.#frameTimer = undefined;
      if (transport === undefined || transport !== this.#transport) return;
      const error = new RialtoError(
        "PROTOCOL_ERROR",
        `[${this.name}] a frame stayed incomplete for ${timeoutMs} ms (${this.#decoder.bufferedBytes} bytes received)`,
      );
      this.#report(error);
      this.#sendNotice(error);
      transport.close(error);
    }, timeoutMs);
    this.#frameTimer.unref?.();
  }

  #clearFrameTimer(): void {
    if (this.#frameTimer === undefined) return;
    clearTimeout(this.#frameTimer);
    this.#frameTimer = undefined;
  }

  #onFrame(type: FrameType, body: Uint8Array, tooDeep: boolean): void {
    if (tooDeep) {
      this.#protocolError(
        `frame body nests arrays/objects deeper than ${this.#maxJsonDepth} levels (dropped unread)`,
        undefined,
      );
      return;
    }
    let message: unknown;
    try {
      message = JSON.parse(textDecoder.decode(body));
    } catch {
      this.#protocolError(
        `frame body is not valid UTF-8 JSON (${body.byteLength} bytes)`,
        undefined,
      );
      return;
    }
    try {
      this.#dispatchFrame(type, message);
    } catch (error) {
      // Every path above answers by itself; a throw here is a bug. The frame is still answered.
      const id = (message as { id?: unknown } | null)?.id;
      const failure = new RialtoError(
        "INTERNAL",
        `[${this.name}] failed to handle a frame: ${toRialtoError(error).message}`,
        { cause: error },
      );
      if (type === FrameType.Request && Number.isSafeInteger(id) && (id as number) > 0) {
        this.#sendResponse({ id: id as number, error: failure.toWire() }, this.#transport);
      } else {
        this.#sendNotice(failure);
      }
      this.#report(failure);
    }
  }

  #dispatchFrame(type: FrameType, message: unknown): void {
    // Only a notice that is the last thing before the close explains it.
    if (type !== FrameType.Notice) this.#notice = undefined;
    switch (type) {
      case FrameType.Request:
        this.#onRequest(message);
        break;
      case FrameType.Response:
        this.#onResponse(message);
        break;
      case FrameType.Event:
        this.#onEvent(message);
        break;
      case FrameType.Notice:
        if (Envelopes.notice.check(message)) {
          this.#notice = RialtoError.fromWire(message.error);
          this.#report(this.#notice);
        } else
          this.#report(
            new RialtoError("PROTOCOL_ERROR", `malformed notice ${describeValue(message)}`),
          );
    }
  }

  #onRequest(message: unknown): void {
    if (!Envelopes.request.check(message)) {
      const id = (message as { id?: unknown } | null)?.id;
      this.#protocolError(
        `malformed request ${describeValue(message)}`,
        Number.isSafeInteger(id) && (id as number) > 0 ? (id as number) : undefined,
      );
      return;
    }
    const router = this.#options.router;
    const run = (): ResponseEnvelope | Promise<ResponseEnvelope> =>
      router !== undefined
        ? router.dispatch(message, this)
        : {
            id: message.id,
            error: new RialtoError(
              "UNKNOWN_METHOD",
              `unknown method ${describeValue(message.method)}`,
            ).toWire(),
          };
    const gate = this.#options.requestGate;
    const transport = this.#transport;
    let reply: ResponseEnvelope | undefined | Promise<ResponseEnvelope | undefined>;
    try {
      reply = gate !== undefined ? gate(message, this, run) : run();
    } catch (error) {
      reply = { id: message.id, error: toRialtoError(error).toWire() };
    }
    if (!(reply instanceof Promise)) {
      if (reply !== undefined) this.#sendResponse(reply, transport);
      return;
    }
    reply.then(
      (response) => {
        if (response !== undefined) this.#sendResponse(response, transport);
      },
      (error) =>
        this.#sendResponse({ id: message.id, error: toRialtoError(error).toWire() }, transport),
    );
  }

  #sendResponse(response: ResponseEnvelope, transport: Transport | undefined): void {
    // A reply goes back on the connection the request came in on; if that one is gone, the
    // caller will retransmit (and a reply cache answers it).
    if (transport === undefined || transport !== this.#transport) return;
    let frame: Uint8Array;
    try {
      frame = encodeJsonFrame(FrameType.Response, response, this.#maxFrameLength);
    } catch (error) {
      frame = encodeJsonFrame(FrameType.Response, {
        id: response.id,
        error: toRialtoError(error).toWire(),
      });
    }
    transport.write(frame);
  }

  #onResponse(message: unknown): void {
    if (!Envelopes.response.check(message)) {
      this.#report(
        new RialtoError("PROTOCOL_ERROR", `malformed response ${describeValue(message)}`),
      );
      return;
    }
    const call = this.#pending.settle(message.id);
    if (call === undefined) return; // A late reply to a call that timed out.
    if (message.error !== undefined) {
      call.reject(RialtoError.fromWire(message.error));
    } else if (call.validate.check(message.result)) {
      call.resolve(message.result);
    } else {
      call.reject(
        new RialtoError(
          "PROTOCOL_ERROR",
          `[${this.name}] "${call.method}" returned an invalid result ${describeValue(message.result)}`,
        ),
      );
    }
  }

  #onEvent(message: unknown): void {
    if (!Envelopes.event.check(message)) {
      this.#report(new RialtoError("PROTOCOL_ERROR", `malformed event ${describeValue(message)}`));
      return;
    }
    const listeners = this.#listeners.get(message.event);
    if (listeners === undefined || listeners.size === 0) return;
    const validator = this.#validators.get(message.event);
    if (validator !== undefined && !validator.check(message.payload)) {
      this.#report(
        new RialtoError(
          "PROTOCOL_ERROR",
          `event "${message.event}" has an invalid payload ${describeValue(message.payload)}`,
        ),
      );
      return;
    }
    for (const listener of listeners) {
      try {
        listener(message.payload, message.seq);
      } catch (error) {
        this.#report(toRialtoError(error));
      }
    }
  }

  #protocolError(message: string, requestId: number | undefined): void {
    const error = new RialtoError("PROTOCOL_ERROR", message);
    if (requestId !== undefined) {
      this.#sendResponse({ id: requestId, error: error.toWire() }, this.#transport);
    } else {
      this.#sendNotice(error);
    }
    this.#report(error);
  }

  #sendNotice(error: RialtoError): void {
    const wire = error.toWire();
    // The message is ours, but may quote a peer's value: keep the notice small and valid.
    if (wire.message.length > 1024) wire.message = `${wire.message.slice(0, 1021)}...`;
    this.#transport?.write(encodeJsonFrame(FrameType.Notice, { error: wire }));
  }

  #report(error: RialtoError): void {
    try {
      this.#options.onError?.(error);
    } catch {
      // A failing log hook must not take the connection down with it.
    }
  }
}
