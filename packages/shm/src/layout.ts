/**
 * Every binary layout constant of the package: the shared-memory pool, the AV buffer
 * partitions, the frame-metadata table and the fd-channel record. All multi-byte fields
 * are little-endian. The README describes the same layouts byte by byte.
 */

/** One KiB in bytes. */
const KiB = 1024;
/** One MiB in bytes. */
const MiB = 1024 * KiB;

/** Pool magic, the ASCII bytes "RSPL" read as a little-endian u32. */
export const POOL_MAGIC = 0x4c505352;
/** Pool layout version written by this code. */
export const POOL_VERSION = 1;
/** Bytes of the pool header at offset 0; the heap starts right after it. */
export const POOL_HEADER_SIZE = 64;
/** Header offset of the u32 magic. */
export const POOL_MAGIC_OFFSET = 0;
/** Header offset of the u16 layout version. */
export const POOL_VERSION_OFFSET = 4;
/** Header offset of the u16 header size. */
export const POOL_HEADER_SIZE_OFFSET = 6;
/** Header offset of the u32 pool size in bytes (the whole memfd). */
export const POOL_SIZE_OFFSET = 8;
/** Header offset of the u32 offset of the first free block (0: none). */
export const POOL_FREE_HEAD_OFFSET = 12;
/** Header offset of the u64 heartbeat counter (updated with Atomics, 8-byte aligned). */
export const POOL_HEARTBEAT_OFFSET = 16;
/** Smallest pool size in bytes (the Celix RSA SHM minimum). */
export const POOL_MIN_SIZE = 8192;
/** Default pool size in bytes (256 KiB, the Celix RSA SHM default). */
export const POOL_DEFAULT_SIZE = 256 * KiB;
/** Largest pool size in bytes: block offsets and sizes are u32 with a flag bit. */
export const POOL_MAX_SIZE = 1024 * MiB;
/** Default heartbeat period of a pool owner, in milliseconds (Celix: 1 s). */
export const POOL_HEARTBEAT_INTERVAL_MS = 1000;

/** Block alignment in bytes; block offsets, sizes and payloads are multiples of it. */
export const BLOCK_ALIGN = 8;
/** Bytes of a block header: u32 size-and-state, u32 check word. */
export const BLOCK_HEADER_SIZE = 8;
/** Smallest block: header plus the u32 next-free link (rounded to the alignment). */
export const BLOCK_MIN_SIZE = 16;
/** Block-header offset of the u32 size-and-state word (size | allocated bit). */
export const BLOCK_SIZE_WORD_OFFSET = 0;
/** Block-header offset of the u32 check word: sizeWord ^ blockOffset ^ BLOCK_MAGIC. */
export const BLOCK_CHECK_OFFSET = 4;
/** Free-block offset of the u32 link to the next free block (address order; 0: end). */
export const BLOCK_NEXT_FREE_OFFSET = 8;
/** Bit 0 of the size word: set while the block is allocated. */
export const BLOCK_ALLOCATED_BIT = 1;
/** Mixed into every check word so that zeroed or random bytes do not pass as a header. */
export const BLOCK_MAGIC = 0x5a17c0de;

/** Default video region of one playback partition, in bytes (7 MiB). */
export const AV_VIDEO_REGION_SIZE = 7 * MiB;
/** Default audio region of one playback partition, in bytes (1 MiB). */
export const AV_AUDIO_REGION_SIZE = 1 * MiB;
/** Default subtitle region of one playback partition, in bytes (256 KiB). */
export const AV_SUBTITLE_REGION_SIZE = 256 * KiB;
/** Default partition of one web-audio player, in bytes (10 KiB). */
export const AV_WEB_AUDIO_REGION_SIZE = 10 * KiB;
/** Alignment every AV region size must respect, in bytes. */
export const AV_REGION_ALIGN = 8;
/** Largest number of playback sessions or web-audio players a layout accepts. */
export const AV_MAX_PARTITIONS = 256;

/** Table magic, the ASCII bytes "RFMT" read as a little-endian u32. */
export const FRAME_TABLE_MAGIC = 0x544d4652;
/** Table version written by this code; readers reject others with UNSUPPORTED_VERSION. */
export const FRAME_TABLE_VERSION = 1;
/** Bytes of the table header at the start of the region. */
export const FRAME_TABLE_HEADER_SIZE = 16;
/** Header offset of the u32 magic. */
export const FRAME_TABLE_MAGIC_OFFSET = 0;
/** Header offset of the u16 version. */
export const FRAME_TABLE_VERSION_OFFSET = 4;
/** Header offset of the u16 reserved field (must be 0). */
export const FRAME_TABLE_RESERVED_OFFSET = 6;
/** Header offset of the u32 number of frames written. */
export const FRAME_TABLE_COUNT_OFFSET = 8;
/** Header offset of the u32 entry capacity; the data area starts after capacity entries. */
export const FRAME_TABLE_CAPACITY_OFFSET = 12;

/** Bytes of one frame entry. */
export const FRAME_ENTRY_SIZE = 56;
/** Entry offset of the u8 media kind (see FRAME_KIND_*). */
export const FRAME_ENTRY_KIND = 0;
/** Entry offset of the u8 flags (see FRAME_FLAG_*). */
export const FRAME_ENTRY_FLAGS = 1;
/** Entry offset of the u16 reserved field (must be 0). */
export const FRAME_ENTRY_RESERVED = 2;
/** Entry offset of the u32 source id. */
export const FRAME_ENTRY_SOURCE_ID = 4;
/** Entry offset of the i64 timestamp in nanoseconds. */
export const FRAME_ENTRY_TIMESTAMP = 8;
/** Entry offset of the i64 duration in nanoseconds. */
export const FRAME_ENTRY_DURATION = 16;
/** Entry offset of the u32 region offset of the frame bytes. */
export const FRAME_ENTRY_DATA_OFFSET = 24;
/** Entry offset of the u32 length of the frame bytes. */
export const FRAME_ENTRY_DATA_LENGTH = 28;
/** Entry offset of the u32 audio sample rate (Hz) or video width (pixels). */
export const FRAME_ENTRY_PARAM_1 = 32;
/** Entry offset of the u32 audio channel count or video height (pixels). */
export const FRAME_ENTRY_PARAM_2 = 36;
/** Entry offset of the u32 region offset of the codec data. */
export const FRAME_ENTRY_CODEC_OFFSET = 40;
/** Entry offset of the u32 length of the codec data. */
export const FRAME_ENTRY_CODEC_LENGTH = 44;
/** Entry offset of the u32 region offset of the encryption record. */
export const FRAME_ENTRY_CRYPTO_OFFSET = 48;
/** Entry offset of the u32 length of the encryption record. */
export const FRAME_ENTRY_CRYPTO_LENGTH = 52;

/** Media kind byte of an audio frame. */
export const FRAME_KIND_AUDIO = 1;
/** Media kind byte of a video frame. */
export const FRAME_KIND_VIDEO = 2;
/** Media kind byte of a subtitle frame. */
export const FRAME_KIND_SUBTITLE = 3;
/** Flag bit: the entry carries codec data (a codec data change). */
export const FRAME_FLAG_CODEC_DATA = 1;
/** Flag bit: the entry carries an encryption record. */
export const FRAME_FLAG_ENCRYPTED = 2;
/** Every flag bit this version defines; other bits must be 0. */
export const FRAME_FLAGS_KNOWN = FRAME_FLAG_CODEC_DATA | FRAME_FLAG_ENCRYPTED;

/** Bytes of the fixed part of an encryption record. */
export const CRYPTO_HEADER_SIZE = 12;
/** Encryption-record offset of the u8 cipher mode (see CIPHER_MODE_*). */
export const CRYPTO_CIPHER_MODE = 0;
/** Encryption-record offset of the u8 key id length. */
export const CRYPTO_KEY_ID_LENGTH = 1;
/** Encryption-record offset of the u8 IV length (8 or 16). */
export const CRYPTO_IV_LENGTH = 2;
/** Encryption-record offset of the u8 pattern crypt byte blocks (0 with 0 skip: no pattern). */
export const CRYPTO_CRYPT_BLOCKS = 3;
/** Encryption-record offset of the u8 pattern skip byte blocks. */
export const CRYPTO_SKIP_BLOCKS = 4;
/** Encryption-record offset of the u8 reserved field (must be 0). */
export const CRYPTO_RESERVED = 5;
/** Encryption-record offset of the u16 subsample count. */
export const CRYPTO_SUBSAMPLE_COUNT = 6;
/** Encryption-record offset of the u32 key session id. */
export const CRYPTO_KEY_SESSION_ID = 8;
/** Bytes of one subsample pair: u32 clear bytes, u32 encrypted bytes. */
export const CRYPTO_SUBSAMPLE_SIZE = 8;
/** Cipher-mode byte of AES-128-CTR full-sample/subsample encryption ("cenc"). */
export const CIPHER_MODE_CENC = 1;
/** Cipher-mode byte of AES-128-CBC pattern encryption ("cbcs"). */
export const CIPHER_MODE_CBCS = 2;
/** Largest key id length in bytes. */
export const CRYPTO_MAX_KEY_ID_LENGTH = 255;
/** Largest subsample count of one frame. */
export const CRYPTO_MAX_SUBSAMPLES = 0xffff;

/** Alignment of every item the frame writer places in the data area, in bytes. */
export const FRAME_DATA_ALIGN = 8;

/** First byte of every record; lets an empty payload differ from end-of-stream. */
export const RECORD_HEADER_BYTE = 0x52;
/** Bytes of the record header. */
export const RECORD_HEADER_SIZE = 1;
/** Largest payload of one record, in bytes. */
export const RECORD_MAX_DATA = 1024;
/** Largest number of fds in one record. */
export const RECORD_MAX_FDS = 16;
/** Bytes of a side-channel handshake token. */
export const HANDSHAKE_TOKEN_SIZE = 16;
