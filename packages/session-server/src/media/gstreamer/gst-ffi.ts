import { dlopen, type Pointer, ptr, read, toArrayBuffer } from "bun:ffi";
import { RialtoError } from "@rialto/protocol";

/**
 * The only file of the GStreamer engine that touches `bun:ffi`: libgstreamer-1.0, libgstapp-1.0,
 * libgobject-2.0 and libglib-2.0 of GStreamer 1.20+ (Debian 12 ships 1.22). Every call runs on
 * the JS thread; no JS callback is ever handed to GStreamer (a callback from a streaming thread
 * hangs or answers 0), so the two callbacks GStreamer needs are native functions found by name.
 * Struct offsets are LP64 (x86-64, aarch64).
 */

/** `GST_CLOCK_TIME_NONE`. */
export const CLOCK_TIME_NONE = 0xffff_ffff_ffff_ffffn;

/** `GstState`. */
export const GstState = { VoidPending: 0, Null: 1, Ready: 2, Paused: 3, Playing: 4 } as const;
/** `GstStateChangeReturn`. */
export const StateChangeReturn = { Failure: 0, Success: 1, Async: 2, NoPreroll: 3 } as const;

/** `GstMessageType` bits the engine reads. */
export const MessageType = {
  Eos: 1,
  Error: 2,
  Warning: 4,
  StateChanged: 64,
  AsyncDone: 2_097_152,
  Qos: 16_777_216,
} as const;

const FORMAT_TIME = 3;
const SEEK_FLAG_FLUSH = 1;
const SEEK_FLAG_ACCURATE = 2;
const SEEK_FLAG_INSTANT_RATE_CHANGE = 1 << 9;
const SEEK_TYPE_NONE = 0;
const SEEK_TYPE_SET = 1;
const MAP_READ = 1;
const MAP_WRITE = 2;
const G_CONNECT_SWAPPED = 2;

// LP64 struct offsets (GStreamer 1.22 headers): GstBuffer pts/dts/duration, GstMessage type and
// src, GstMapInfo data/size, GError domain/code/message.
const BUFFER_PTS = 72;
const MESSAGE_TYPE = 64;
const MESSAGE_SRC = 80;
const MAP_INFO_SIZE = 104;
const MAP_INFO_DATA = 16;
const MAP_INFO_LENGTH = 24;
const GERROR_CODE = 4;
const GERROR_MESSAGE = 8;
// GstAppSrcCallbacks: need_data, enough_data, seek_data, then 4 reserved pointers.
const APP_SRC_CALLBACKS_SIZE = 7 * 8;
const APP_SRC_CALLBACKS_SEEK_DATA = 16;

/** The Debian package that brings each library, for the errors that name what is missing. */
const LIBRARIES = {
  gst: { file: "libgstreamer-1.0.so.0", debian: "libgstreamer1.0-0" },
  app: { file: "libgstapp-1.0.so.0", debian: "gstreamer1.0-plugins-base" },
  gobject: { file: "libgobject-2.0.so.0", debian: "libglib2.0-0" },
  glib: { file: "libglib-2.0.so.0", debian: "libglib2.0-0" },
} as const;

function open<T extends Parameters<typeof dlopen>[1]>(
  library: (typeof LIBRARIES)[keyof typeof LIBRARIES],
  symbols: T,
) {
  try {
    return dlopen(library.file, symbols).symbols;
  } catch (error) {
    throw new RialtoError(
      "NOT_FOUND",
      `GStreamer engine: cannot load ${library.file} (${(error as Error).message.split("\n")[0]}); install it with "apt-get install ${library.debian}"`,
    );
  }
}

function bind() {
  const gst = open(LIBRARIES.gst, {
    gst_init_check: { args: ["ptr", "ptr", "ptr"], returns: "i32" },
    gst_version_string: { args: [], returns: "cstring" },
    gst_parse_launch: { args: ["ptr", "ptr"], returns: "ptr" },
    gst_parse_bin_from_description: { args: ["ptr", "i32", "ptr"], returns: "ptr" },
    gst_object_ref_sink: { args: ["ptr"], returns: "ptr" },
    gst_object_set_name: { args: ["ptr", "ptr"], returns: "i32" },
    gst_bin_add: { args: ["ptr", "ptr"], returns: "i32" },
    gst_bin_remove: { args: ["ptr", "ptr"], returns: "i32" },
    gst_element_sync_state_with_parent: { args: ["ptr"], returns: "i32" },
    gst_element_get_current_running_time: { args: ["ptr"], returns: "u64" },
    gst_element_get_start_time: { args: ["ptr"], returns: "u64" },
    gst_element_get_static_pad: { args: ["ptr", "ptr"], returns: "ptr" },
    gst_pad_set_offset: { args: ["ptr", "i64"], returns: "void" },
    gst_pad_get_peer: { args: ["ptr"], returns: "ptr" },
    gst_pad_get_parent_element: { args: ["ptr"], returns: "ptr" },
    gst_object_ref: { args: ["ptr"], returns: "ptr" },
    gst_bin_get_by_name: { args: ["ptr", "ptr"], returns: "ptr" },
    gst_element_set_state: { args: ["ptr", "i32"], returns: "i32" },
    gst_element_get_bus: { args: ["ptr"], returns: "ptr" },
    gst_element_query_position: { args: ["ptr", "i32", "ptr"], returns: "i32" },
    gst_element_seek: {
      args: ["ptr", "f64", "i32", "i32", "i32", "i64", "i32", "i64"],
      returns: "i32",
    },
    gst_element_send_event: { args: ["ptr", "ptr"], returns: "i32" },
    gst_element_factory_find: { args: ["ptr"], returns: "ptr" },
    gst_plugin_feature_set_rank: { args: ["ptr", "u32"], returns: "void" },
    gst_event_new_flush_start: { args: [], returns: "ptr" },
    gst_event_new_flush_stop: { args: ["i32"], returns: "ptr" },
    gst_bus_timed_pop_filtered: { args: ["ptr", "u64", "i32"], returns: "ptr" },
    gst_message_parse_error: { args: ["ptr", "ptr", "ptr"], returns: "void" },
    gst_message_parse_state_changed: { args: ["ptr", "ptr", "ptr", "ptr"], returns: "void" },
    gst_message_parse_qos_stats: { args: ["ptr", "ptr", "ptr", "ptr"], returns: "void" },
    gst_object_get_name: { args: ["ptr"], returns: "ptr" },
    gst_object_unref: { args: ["ptr"], returns: "void" },
    gst_mini_object_unref: { args: ["ptr"], returns: "void" },
    gst_caps_from_string: { args: ["ptr"], returns: "ptr" },
    gst_caps_get_structure: { args: ["ptr", "u32"], returns: "ptr" },
    gst_structure_get_int: { args: ["ptr", "ptr", "ptr"], returns: "i32" },
    gst_buffer_new_allocate: { args: ["ptr", "u64", "ptr"], returns: "ptr" },
    gst_buffer_fill: { args: ["ptr", "u64", "ptr", "u64"], returns: "u64" },
    gst_buffer_map: { args: ["ptr", "ptr", "i32"], returns: "i32" },
    gst_buffer_unmap: { args: ["ptr", "ptr"], returns: "void" },
    gst_sample_get_buffer: { args: ["ptr"], returns: "ptr" },
    gst_sample_get_caps: { args: ["ptr"], returns: "ptr" },
    gst_util_set_object_arg: { args: ["ptr", "ptr", "ptr"], returns: "void" },
    gst_is_initialized: { args: [], returns: "i32" },
    gst_deinit: { args: [], returns: "void" },
  });
  const app = open(LIBRARIES.app, {
    gst_app_src_set_caps: { args: ["ptr", "ptr"], returns: "void" },
    gst_app_src_push_buffer: { args: ["ptr", "ptr"], returns: "i32" },
    gst_app_src_end_of_stream: { args: ["ptr"], returns: "i32" },
    gst_app_src_get_current_level_buffers: { args: ["ptr"], returns: "u64" },
    gst_app_src_set_callbacks: { args: ["ptr", "ptr", "ptr", "ptr"], returns: "void" },
    gst_app_sink_try_pull_sample: { args: ["ptr", "u64"], returns: "ptr" },
    gst_app_sink_is_eos: { args: ["ptr"], returns: "i32" },
  });
  const gobject = open(LIBRARIES.gobject, {
    g_signal_connect_data: { args: ["ptr", "ptr", "ptr", "ptr", "ptr", "i32"], returns: "u64" },
  });
  const glib = open(LIBRARIES.glib, {
    g_free: { args: ["ptr"], returns: "void" },
    g_error_free: { args: ["ptr"], returns: "void" },
    g_malloc0: { args: ["u64"], returns: "ptr" },
    g_quark_to_string: { args: ["u32"], returns: "cstring" },
    g_atomic_int_inc: { args: ["ptr"], returns: "void" },
  });
  const libc = dlopen("libc.so.6", {
    memcpy: { args: ["ptr", "ptr", "u64"], returns: "ptr" },
  }).symbols;
  return { ...gst, ...app, ...gobject, ...glib, ...libc };
}

type Bindings = ReturnType<typeof bind>;

/** The native address of a bound function (Bun sets `ptr` on every dlopen symbol). */
function addressOf(fn: unknown): Pointer {
  const address = (fn as { ptr?: Pointer }).ptr;
  if (typeof address !== "number" || address === 0) {
    throw new RialtoError("INTERNAL", "GStreamer engine: a native function has no address");
  }
  return address;
}

const encoder = new TextEncoder();
/** A NUL-terminated C string. */
function cstr(text: string): Uint8Array {
  return encoder.encode(`${text}\0`);
}

/** Reads a NUL-terminated string at `at` (an owned `gchar*` is freed with `g_free`). */
function readCString(at: Pointer | null): string {
  if (at === null) return "";
  let length = 0;
  while (read.u8(at, length) !== 0) length++;
  return new TextDecoder().decode(toArrayBuffer(at, 0, length));
}

/** A GStreamer error or warning from the bus or from a parse: GError fields and debug text. */
export interface GstErrorInfo {
  /** GError domain, e.g. `gst-stream-error-quark`. */
  readonly domain: string;
  /** GError code within the domain. */
  readonly code: number;
  /** Human-readable message. */
  readonly message: string;
  /** Debug text (element path, reason), may be empty. */
  readonly debug: string;
  /** Name of the element that posted it (empty for parse errors). */
  readonly element: string;
}

/** One bus message, as much of it as the engine reads. */
export type BusMessage =
  | { readonly type: "eos" }
  | { readonly type: "error"; readonly error: GstErrorInfo }
  | { readonly type: "async-done" }
  | {
      readonly type: "state-changed";
      readonly element: Pointer;
      readonly oldState: number;
      readonly newState: number;
    }
  | {
      readonly type: "qos";
      readonly element: string;
      readonly processed: number;
      readonly dropped: number;
    };

/** A decoded output sample pulled from an appsink, valid until `release()`. */
export interface PulledSample {
  /** The sample's bytes (a view of mapped GStreamer memory: dead after `release`). */
  readonly bytes: Uint8Array;
  /** Video only: width and height from the caps (0 for audio). */
  readonly width: number;
  readonly height: number;
  /** Presentation time in ns (-1 when the buffer has none). */
  readonly ptsNs: number;
  /** Unmaps and unrefs the sample. */
  release(): void;
}

/**
 * The GStreamer calls the engine makes, over raw pointers. Created once per process by
 * {@link loadGstreamer}; throws `NOT_FOUND` naming the library and its Debian package when
 * GStreamer is not installed.
 */
export class GstLibrary {
  readonly #c: Bindings;
  /** GStreamer's version, e.g. `GStreamer 1.22.0`. */
  readonly version: string;
  readonly #seekData: Pointer;
  readonly #atomicIncrement: Pointer;
  // Scratch structs live in explicit ArrayBuffers so their addresses never move.
  readonly #times = new BigUint64Array(new ArrayBuffer(24));
  readonly #int64 = new BigInt64Array(new ArrayBuffer(8));
  readonly #u64Pair = new BigUint64Array(new ArrayBuffer(16));
  readonly #states = new Int32Array(new ArrayBuffer(16));
  readonly #pointers = new BigUint64Array(new ArrayBuffer(16));
  readonly #int32 = new Int32Array(new ArrayBuffer(8));
  readonly #mapInfo = new Uint8Array(new ArrayBuffer(MAP_INFO_SIZE));

  private constructor(c: Bindings) {
    this.#c = c;
    const errorOut = this.#pointers;
    errorOut.fill(0n);
    if (c.gst_init_check(null, null, ptr(errorOut)) === 0) {
      const failure = this.#takeGError(Number(errorOut[0]) as Pointer, "", "");
      throw new RialtoError("INTERNAL", `GStreamer engine: gst_init failed: ${failure.message}`);
    }
    this.version = String(c.gst_version_string());
    // seek_data must answer TRUE and ignores its arguments: gst_is_initialized does exactly that.
    this.#seekData = addressOf(c.gst_is_initialized);
    this.#atomicIncrement = addressOf(c.g_atomic_int_inc);
  }

  static #instance: GstLibrary | undefined;

  /**
   * Loads and initialises GStreamer once per process (later calls return the same library). At a
   * clean exit, with no pipeline left, GStreamer is deinitialised: its leak tracer
   * (`GST_TRACERS=leaks`) reports every object still alive then.
   */
  static load(): GstLibrary {
    if (GstLibrary.#instance === undefined) {
      const library = new GstLibrary(bind());
      GstLibrary.#instance = library;
      process.once("exit", () => {
        if (library.#livePipelines === 0) library.#c.gst_deinit();
      });
    }
    return GstLibrary.#instance;
  }

  /** Pipelines made by `parseLaunch` and not yet released: gst_deinit only once none is left. */
  #livePipelines = 0;

  /** Whether an element factory of that name is registered (a plugin that is installed). */
  hasElement(factory: string): boolean {
    const found = this.#c.gst_element_factory_find(cstr(factory));
    if (found === null) return false;
    this.#c.gst_object_unref(found);
    return true;
  }

  /**
   * Takes an element factory out of auto-plugging (rank NONE), so `autovideosink` and the like
   * never pick it; nothing when it is not installed.
   */
  excludeFromAutoplug(factory: string): void {
    const found = this.#c.gst_element_factory_find(cstr(factory));
    if (found === null) return;
    this.#c.gst_plugin_feature_set_rank(found, 0);
    this.#c.gst_object_unref(found);
  }

  /** Builds a pipeline from a launch description; throws `INVALID_ARGUMENT` with the parse error. */
  parseLaunch(description: string): Pointer {
    const errorOut = this.#pointers;
    errorOut.fill(0n);
    const pipeline = this.#c.gst_parse_launch(cstr(description), ptr(errorOut));
    const gerror = Number(errorOut[0]) as Pointer;
    if (gerror !== 0) {
      const failure = this.#takeGError(gerror, "", "");
      if (pipeline !== null) this.#c.gst_object_unref(pipeline);
      throw new RialtoError(
        "INVALID_ARGUMENT",
        `GStreamer engine: cannot build the pipeline: ${failure.message}`,
        { details: { gstError: failure } },
      );
    }
    if (pipeline === null) {
      throw new RialtoError("INTERNAL", "GStreamer engine: gst_parse_launch returned nothing");
    }
    this.#livePipelines++;
    return pipeline as Pointer;
  }

  /**
   * A bin named `name` holding the elements of a launch description (linked, no ghost pads), not
   * yet in any pipeline: a reference the caller owns until {@link GstLibrary.addToBin}. With
   * `isolated`, the bin handles its elements' asynchronous state changes itself, so that adding it
   * to a running pipeline never makes the pipeline wait for (or lose its state to) the new sink.
   * Throws `INVALID_ARGUMENT` with the parse error.
   */
  parseBin(name: string, description: string, isolated: boolean): Pointer {
    const errorOut = this.#pointers;
    errorOut.fill(0n);
    const bin = this.#c.gst_parse_bin_from_description(cstr(description), 0, ptr(errorOut));
    const gerror = Number(errorOut[0]) as Pointer;
    if (gerror !== 0 || bin === null) {
      const failure = gerror === 0 ? { message: "no bin" } : this.#takeGError(gerror, "", "");
      if (bin !== null) this.#c.gst_object_unref(this.#c.gst_object_ref_sink(bin));
      throw new RialtoError(
        "INVALID_ARGUMENT",
        `GStreamer engine: cannot build ${name}: ${failure.message}`,
        { details: { gstError: failure } },
      );
    }
    this.#c.gst_object_ref_sink(bin);
    this.#c.gst_object_set_name(bin, cstr(name));
    if (isolated) this.setProperty(bin as Pointer, "async-handling", "true");
    return bin as Pointer;
  }

  /**
   * Adds `element` to `bin` and drops the caller's reference to it (the bin keeps it alive); with
   * `follow`, the element then takes the bin's state (a running pipeline's new branch).
   */
  addToBin(bin: Pointer, element: Pointer, follow: boolean): void {
    const added = this.#c.gst_bin_add(bin, element);
    if (added !== 0 && follow) this.#c.gst_element_sync_state_with_parent(element);
    this.#c.gst_object_unref(element);
    if (added === 0) throw new RialtoError("INTERNAL", "GStreamer engine: gst_bin_add refused");
  }

  /**
   * Stops and removes from `bin` the chain of elements that starts at `first` and follows each
   * element's `src` pad downstream to the end (a source's branch of a launch description). The
   * caller's reference to `first` stays its own.
   */
  removeChain(bin: Pointer, first: Pointer): void {
    const chain: Pointer[] = [this.#c.gst_object_ref(first) as Pointer];
    for (let element = first; ; ) {
      const pad = this.#c.gst_element_get_static_pad(element, cstr("src"));
      if (pad === null) break;
      const peer = this.#c.gst_pad_get_peer(pad);
      this.#c.gst_object_unref(pad);
      if (peer === null) break;
      const next = this.#c.gst_pad_get_parent_element(peer);
      this.#c.gst_object_unref(peer);
      if (next === null) break;
      element = next as Pointer;
      chain.push(element);
    }
    // Upstream first: the appsrc's streaming thread stops before the elements it feeds.
    for (const element of chain) {
      this.#c.gst_element_set_state(element, GstState.Null);
      this.#c.gst_bin_remove(bin, element);
      this.#c.gst_object_unref(element);
    }
  }

  /** Stops the named child of `bin` (state NULL) and removes it, which frees it. */
  removeFromBin(bin: Pointer, name: string): void {
    const element = this.child(bin, name);
    this.#c.gst_element_set_state(element, GstState.Null);
    this.#c.gst_bin_remove(bin, element);
    this.#c.gst_object_unref(element);
  }

  /**
   * The pipeline's running time now, ns: from its clock while PLAYING, else the running time it
   * will resume from (its start time).
   */
  runningTime(pipeline: Pointer, playing: boolean): number {
    const time = playing
      ? this.#c.gst_element_get_current_running_time(pipeline)
      : this.#c.gst_element_get_start_time(pipeline);
    return time === CLOCK_TIME_NONE ? 0 : Number(time);
  }

  /** Shifts the running time of everything `element`'s `src` pad pushes by `offsetNs`. */
  setSourceOffset(element: Pointer, offsetNs: number): void {
    const pad = this.#c.gst_element_get_static_pad(element, cstr("src"));
    if (pad === null) throw new RialtoError("INTERNAL", "GStreamer engine: no src pad");
    this.#c.gst_pad_set_offset(pad, BigInt(Math.round(offsetNs)));
    this.#c.gst_object_unref(pad);
  }

  /**
   * Drops the reference {@link GstLibrary.parseLaunch} gave (set the pipeline to NULL first).
   * Whatever else still holds it is a leak that `GST_TRACERS=leaks` reports at exit.
   */
  releasePipeline(pipeline: Pointer): void {
    this.#livePipelines--;
    this.#c.gst_object_unref(pipeline);
  }

  /** The named child of a bin (a new reference: {@link GstLibrary.unref} it). */
  child(bin: Pointer, name: string): Pointer {
    const element = this.#c.gst_bin_get_by_name(bin, cstr(name));
    if (element === null) throw new RialtoError("INTERNAL", `GStreamer engine: no element ${name}`);
    return element as Pointer;
  }

  /** Unrefs a GstObject. */
  unref(object: Pointer): void {
    this.#c.gst_object_unref(object);
  }

  /** `gst_element_set_state`; returns the `StateChangeReturn`. */
  setState(element: Pointer, state: number): number {
    return this.#c.gst_element_set_state(element, state);
  }

  /** The element's bus (a new reference). */
  bus(element: Pointer): Pointer {
    const bus = this.#c.gst_element_get_bus(element);
    if (bus === null) throw new RialtoError("INTERNAL", "GStreamer engine: pipeline has no bus");
    return bus as Pointer;
  }

  /** Pops the next interesting bus message without waiting; undefined when there is none. */
  popMessage(bus: Pointer): BusMessage | undefined {
    const mask =
      MessageType.Eos |
      MessageType.Error |
      MessageType.StateChanged |
      MessageType.AsyncDone |
      MessageType.Qos;
    for (;;) {
      const message = this.#c.gst_bus_timed_pop_filtered(bus, 0, mask);
      if (message === null) return undefined;
      try {
        const parsed = this.#parseMessage(message as Pointer);
        if (parsed !== undefined) return parsed;
      } finally {
        this.#c.gst_mini_object_unref(message);
      }
    }
  }

  #parseMessage(message: Pointer): BusMessage | undefined {
    const type = read.u32(message, MESSAGE_TYPE);
    const src = read.ptr(message, MESSAGE_SRC) as Pointer;
    switch (type) {
      case MessageType.Eos:
        return { type: "eos" };
      case MessageType.AsyncDone:
        return { type: "async-done" };
      case MessageType.Error: {
        const out = this.#pointers;
        out.fill(0n);
        this.#c.gst_message_parse_error(message, ptr(out), ptr(out, 8));
        const debugText = Number(out[1]) as Pointer;
        const debug = readCString(debugText === 0 ? null : debugText);
        if (debugText !== 0) this.#c.g_free(debugText);
        return {
          type: "error",
          error: this.#takeGError(Number(out[0]) as Pointer, debug, this.#name(src)),
        };
      }
      case MessageType.StateChanged: {
        const states = this.#states;
        this.#c.gst_message_parse_state_changed(message, ptr(states), ptr(states, 4), null);
        return {
          type: "state-changed",
          element: src,
          oldState: states[0] ?? 0,
          newState: states[1] ?? 0,
        };
      }
      case MessageType.Qos: {
        const counts = this.#u64Pair;
        this.#c.gst_message_parse_qos_stats(message, ptr(this.#int32), ptr(counts), ptr(counts, 8));
        return {
          type: "qos",
          element: this.#name(src),
          processed: Number(counts[0]),
          dropped: Number(counts[1]),
        };
      }
      default:
        return undefined;
    }
  }

  #name(object: Pointer | null): string {
    if (object === null || object === 0) return "";
    const name = this.#c.gst_object_get_name(object);
    const text = readCString(name as Pointer | null);
    if (name !== null) this.#c.g_free(name);
    return text;
  }

  #takeGError(gerror: Pointer, debug: string, element: string): GstErrorInfo {
    if (gerror === 0 || gerror === null) {
      return { domain: "", code: 0, message: "unknown error", debug, element };
    }
    const info = {
      domain: String(this.#c.g_quark_to_string(read.u32(gerror, 0))),
      code: read.i32(gerror, GERROR_CODE),
      message: readCString(read.ptr(gerror, GERROR_MESSAGE) as Pointer),
      debug,
      element,
    };
    this.#c.g_error_free(gerror);
    return info;
  }

  /** Sets a property from its string form (`gst_util_set_object_arg`). */
  setProperty(object: Pointer, name: string, value: string): void {
    this.#c.gst_util_set_object_arg(object, cstr(name), cstr(value));
  }

  /** Sets an appsrc's caps from a caps string; throws `INVALID_ARGUMENT` when it does not parse. */
  setAppSrcCaps(appsrc: Pointer, caps: string): void {
    const parsed = this.#c.gst_caps_from_string(cstr(caps));
    if (parsed === null) {
      throw new RialtoError("INVALID_ARGUMENT", `GStreamer engine: caps do not parse: ${caps}`);
    }
    this.#c.gst_app_src_set_caps(appsrc, parsed);
    this.#c.gst_mini_object_unref(parsed);
  }

  /**
   * Makes an appsrc seekable with no JS callback: its `seek_data` is a native function that
   * answers TRUE. The callbacks struct is copied by GStreamer.
   */
  makeSeekable(appsrc: Pointer): void {
    const callbacks = new BigUint64Array(new ArrayBuffer(APP_SRC_CALLBACKS_SIZE));
    callbacks[APP_SRC_CALLBACKS_SEEK_DATA / 8] = BigInt(this.#seekData);
    this.#c.gst_app_src_set_callbacks(appsrc, ptr(callbacks), null, null);
  }

  /**
   * A counter that GStreamer's streaming threads increment on every `handoff` of `element`
   * (fakesink, identity with `signal-handoffs=true`), with no JS on those threads: the handler is
   * `g_atomic_int_inc` on the counter (connected swapped, so the counter is its argument). The
   * counter is 4 bytes of GLib memory that are never freed (one per source ever created).
   */
  countHandoffs(element: Pointer): Int32Array {
    const counter = this.#c.g_malloc0(8);
    if (counter === null)
      throw new RialtoError("RESOURCE_EXHAUSTED", "GStreamer engine: g_malloc0");
    this.#c.g_signal_connect_data(
      element,
      cstr("handoff"),
      this.#atomicIncrement,
      counter,
      null,
      G_CONNECT_SWAPPED,
    );
    return new Int32Array(toArrayBuffer(counter, 0, 4));
  }

  /**
   * Pushes one buffer into an appsrc: a new GstBuffer of `size` bytes that `content` fills, with
   * the PTS and duration set (DTS none, as Rialto pushes). `content` is either the bytes to copy
   * or a writer that gets the buffer's own memory (mapped for writing, valid only during the
   * call) and answers false to drop the buffer instead of pushing it. Returns whether it was
   * pushed (appsrc itself always accepts: errors come on the bus).
   */
  pushBuffer(
    appsrc: Pointer,
    size: number,
    ptsNs: number,
    durationNs: number,
    content: Uint8Array | ((target: Uint8Array) => boolean),
  ): boolean {
    const allocated = this.#c.gst_buffer_new_allocate(null, size, null);
    if (allocated === null) {
      throw new RialtoError(
        "RESOURCE_EXHAUSTED",
        `GStreamer engine: cannot allocate ${size} bytes`,
      );
    }
    const buffer = allocated as Pointer;
    if (content instanceof Uint8Array) {
      if (size > 0) this.#c.gst_buffer_fill(buffer, 0, ptr(content), size);
    } else if (!this.#write(buffer, size, content)) {
      this.#c.gst_mini_object_unref(buffer);
      return false;
    }
    const times = this.#times;
    times[0] = ptsNs >= 0 ? BigInt(ptsNs) : CLOCK_TIME_NONE;
    times[1] = CLOCK_TIME_NONE;
    times[2] = durationNs > 0 ? BigInt(durationNs) : CLOCK_TIME_NONE;
    // GST_BUFFER_PTS/DTS/DURATION are macros over the struct: written with memcpy.
    this.#c.memcpy((buffer + BUFFER_PTS) as Pointer, ptr(times), 24);
    this.#c.gst_app_src_push_buffer(appsrc, buffer);
    return true;
  }

  /** Runs `writer` over a buffer's memory mapped for writing; its answer, or false on a throw. */
  #write(buffer: Pointer, size: number, writer: (target: Uint8Array) => boolean): boolean {
    const info = this.#mapInfo;
    if (this.#c.gst_buffer_map(buffer, ptr(info), MAP_WRITE) === 0) return false;
    try {
      const data = read.ptr(ptr(info), MAP_INFO_DATA) as Pointer;
      // The view dies with the unmap below: the writer must not keep it.
      return writer(size === 0 ? new Uint8Array(0) : new Uint8Array(toArrayBuffer(data, 0, size)));
    } catch {
      return false;
    } finally {
      this.#c.gst_buffer_unmap(buffer, ptr(info));
    }
  }

  /** Ends an appsrc's stream. */
  endOfStream(appsrc: Pointer): void {
    this.#c.gst_app_src_end_of_stream(appsrc);
  }

  /** Buffers queued in an appsrc, not yet taken by the pipeline. */
  queuedBuffers(appsrc: Pointer): number {
    return Number(this.#c.gst_app_src_get_current_level_buffers(appsrc));
  }

  /** Flushes one element's stream (`flush-start` then `flush-stop(resetTime)`). */
  flush(element: Pointer, resetTime: boolean): boolean {
    const start = this.#c.gst_element_send_event(element, this.#c.gst_event_new_flush_start());
    const stop = this.#c.gst_element_send_event(
      element,
      this.#c.gst_event_new_flush_stop(resetTime ? 1 : 0),
    );
    return start !== 0 && stop !== 0;
  }

  /** The pipeline's position in ns, or undefined when it does not know. */
  position(element: Pointer): number | undefined {
    const out = this.#int64;
    if (this.#c.gst_element_query_position(element, FORMAT_TIME, ptr(out)) === 0) return undefined;
    const value = out[0] ?? -1n;
    return value < 0n ? undefined : Number(value);
  }

  /**
   * A flushing, accurate seek of a pipeline (or of one appsrc alone) to `positionNs` at `rate`;
   * false when refused. Not `flushing`: a source not yet started keeps it for its first segment.
   */
  seek(element: Pointer, positionNs: number, rate: number, flushing = true): boolean {
    return (
      this.#c.gst_element_seek(
        element,
        rate,
        FORMAT_TIME,
        flushing ? SEEK_FLAG_FLUSH | SEEK_FLAG_ACCURATE : SEEK_FLAG_ACCURATE,
        SEEK_TYPE_SET,
        BigInt(positionNs),
        SEEK_TYPE_NONE,
        -1n,
      ) !== 0
    );
  }

  /** Changes the rate without a flush (GStreamer 1.18+ instant rate change); false when refused. */
  instantRate(element: Pointer, rate: number): boolean {
    return (
      this.#c.gst_element_seek(
        element,
        rate,
        FORMAT_TIME,
        SEEK_FLAG_INSTANT_RATE_CHANGE,
        SEEK_TYPE_NONE,
        0n,
        SEEK_TYPE_NONE,
        0n,
      ) !== 0
    );
  }

  /** Whether an appsink got end of stream and has no sample left to pull. */
  appSinkEnded(appsink: Pointer): boolean {
    return this.#c.gst_app_sink_is_eos(appsink) !== 0;
  }

  /**
   * Pulls one decoded sample from an appsink without waiting, mapped for reading; undefined when
   * none is ready.
   */
  pullSample(appsink: Pointer): PulledSample | undefined {
    const sample = this.#c.gst_app_sink_try_pull_sample(appsink, 0);
    if (sample === null) return undefined;
    const buffer = this.#c.gst_sample_get_buffer(sample);
    const info = new Uint8Array(new ArrayBuffer(MAP_INFO_SIZE));
    if (buffer === null || this.#c.gst_buffer_map(buffer, ptr(info), MAP_READ) === 0) {
      this.#c.gst_mini_object_unref(sample);
      throw new RialtoError("INTERNAL", "GStreamer engine: cannot map a decoded sample");
    }
    const data = read.ptr(ptr(info), MAP_INFO_DATA) as Pointer;
    const size = Number(read.u64(ptr(info), MAP_INFO_LENGTH));
    let width = 0;
    let height = 0;
    const caps = this.#c.gst_sample_get_caps(sample);
    const structure = caps === null ? null : this.#c.gst_caps_get_structure(caps, 0);
    if (
      structure !== null &&
      this.#c.gst_structure_get_int(structure, cstr("width"), ptr(this.#int32)) !== 0
    ) {
      width = this.#int32[0] ?? 0;
      this.#c.gst_structure_get_int(structure, cstr("height"), ptr(this.#int32));
      height = this.#int32[0] ?? 0;
    }
    const c = this.#c;
    const pts = read.u64(buffer as Pointer, BUFFER_PTS);
    return {
      bytes: size === 0 ? new Uint8Array(0) : new Uint8Array(toArrayBuffer(data, 0, size)),
      width,
      height,
      ptsNs: pts === CLOCK_TIME_NONE ? -1 : Number(pts),
      release() {
        c.gst_buffer_unmap(buffer, ptr(info));
        c.gst_mini_object_unref(sample);
      },
    };
  }
}

/** Loads GStreamer once per process; see {@link GstLibrary}. */
export function loadGstreamer(): GstLibrary {
  return GstLibrary.load();
}
