/**
 * `@rialto/shm`: shared memory and fd passing for Rialto for Bun. See the package README
 * for the fd-passing pattern, the pool layout and the frame-metadata format.
 */

export {
  type AvBufferLayout,
  type AvRegion,
  type AvRegionSizes,
  type AvResources,
  computeAvBufferLayout,
  DEFAULT_AV_REGION_SIZES,
  type PlaybackPartition,
  type WebAudioPartition,
} from "./av/av-buffer-layout.ts";
export { type ReadFramesOptions, readFrames } from "./av/frame-reader.ts";
export { type FrameWriteResult, FrameWriter, type FrameWriterOptions } from "./av/frame-writer.ts";
export type {
  AudioFrame,
  CipherMode,
  EncryptionPattern,
  FrameEncryption,
  MediaFrame,
  MediaKind,
  Subsample,
  SubtitleFrame,
  VideoFrame,
} from "./av/media-frame.ts";
export { type ErrnoDetails, SHM_ERROR_CODES, ShmError, type ShmErrorCode } from "./errors.ts";
export { closeFd, FdChannel, type FdRecord } from "./fd-passing/fd-channel.ts";
export { FdListener, type FdListenerOptions } from "./fd-passing/fd-listener.ts";
export { OwnedSocket, type OwnedSocketOptions } from "./fd-passing/owned-socket.ts";
export { socketPeerCredentials } from "./fd-passing/peer-credentials.ts";
export { pollReadable } from "./fd-passing/poll-readable.ts";
export {
  connectSideChannel,
  SideChannelAcceptor,
  type SideChannelAcceptorOptions,
  type SideChannelConnection,
} from "./fd-passing/side-channel-handshake.ts";
export {
  AV_AUDIO_REGION_SIZE,
  AV_MAX_PARTITIONS,
  AV_SUBTITLE_REGION_SIZE,
  AV_VIDEO_REGION_SIZE,
  AV_WEB_AUDIO_REGION_SIZE,
  HANDSHAKE_TOKEN_SIZE,
  POOL_DEFAULT_SIZE,
  POOL_MAX_SIZE,
  POOL_MIN_SIZE,
  RECORD_MAX_DATA,
  RECORD_MAX_FDS,
} from "./layout.ts";
export { loadLibc, type PeerCredentials } from "./libc.ts";
export {
  type CleanFileMapping,
  cleanFileMappings,
  type ReleasedCodePages,
  releaseCodePages,
} from "./memory/code-pages.ts";
export {
  type CreateSharedMemoryOptions,
  describeSeals,
  HANDOUT_SEALS,
  type MapSharedMemoryOptions,
  MemfdSeal,
  SharedMemory,
} from "./memory/shared-memory.ts";
export type { PoolBlock } from "./pool/block-allocator.ts";
export { ShmPool, type ShmPoolOptions } from "./pool/shm-pool.ts";
export { ShmPoolView, type ShmPoolViewOptions } from "./pool/shm-pool-view.ts";
