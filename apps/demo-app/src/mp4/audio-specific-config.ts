/** What an MPEG-4 AudioSpecificConfig (ISO/IEC 14496-3 section 1.6.2.1) says about the audio. */
export interface AudioSpecificConfigInfo {
  /** The audio object type of the core coder (2: AAC LC), after any SBR/PS signalling. */
  readonly objectType: number;
  /** The object type the config starts with (5: SBR, 29: PS, else the core's). */
  readonly signalledObjectType: number;
  /** Output sample rate, Hz: the SBR extension rate when SBR is signalled. */
  readonly sampleRate: number;
  /** Output channels: from channelConfiguration, or counted in the program config element. */
  readonly channels: number;
}

const SAMPLE_RATES = [
  96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

/** channelConfiguration → channels (ISO/IEC 14496-3 table 1.19, with the 2013 additions). */
const CHANNELS: Record<number, number> = {
  1: 1,
  2: 2,
  3: 3,
  4: 4,
  5: 5,
  6: 6,
  7: 8,
  11: 7,
  12: 8,
  13: 24,
  14: 8,
};

class BitReader {
  readonly #bytes: Uint8Array;
  #bit = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  read(count: number): number {
    let value = 0;
    for (let i = 0; i < count; i++) {
      const byte = this.#bytes[this.#bit >> 3];
      if (byte === undefined) throw new RangeError("the config ends early");
      value = value * 2 + ((byte >> (7 - (this.#bit & 7))) & 1);
      this.#bit++;
    }
    return value;
  }
}

function objectType(bits: BitReader): number {
  const type = bits.read(5);
  return type === 31 ? 32 + bits.read(6) : type;
}

function sampleRate(bits: BitReader): number {
  const index = bits.read(4);
  if (index === 15) return bits.read(24);
  const rate = SAMPLE_RATES[index];
  if (rate === undefined) throw new RangeError(`sampling frequency index ${index} is reserved`);
  return rate;
}

/** Channels of a program_config_element (ISO/IEC 14496-3 section 4.4.1.1). */
function programConfigChannels(bits: BitReader): number {
  bits.read(4 + 2 + 4); // element_instance_tag, object_type, sampling_frequency_index
  const front = bits.read(4);
  const side = bits.read(4);
  const back = bits.read(4);
  const lfe = bits.read(2);
  bits.read(3 + 4); // num_assoc_data_elements, num_valid_cc_elements
  if (bits.read(1)) bits.read(4); // mono_mixdown
  if (bits.read(1)) bits.read(4); // stereo_mixdown
  if (bits.read(1)) bits.read(3); // matrix_mixdown
  let channels = lfe;
  for (let i = 0; i < front + side + back; i++) {
    channels += bits.read(1) ? 2 : 1; // is_cpe
    bits.read(4);
  }
  return channels;
}

/**
 * Parses an AudioSpecificConfig: object type, output rate (HE-AAC: the SBR rate) and channels
 * (channelConfiguration, or the program config element when it is 0), as a decoder would set
 * them up; the container's `mp4a` header (often "2 channels" whatever the stream) is not used.
 *
 * @throws RangeError when the config is cut short or uses a reserved value.
 */
export function parseAudioSpecificConfig(config: Uint8Array): AudioSpecificConfigInfo {
  const bits = new BitReader(config);
  const signalledObjectType = objectType(bits);
  let type = signalledObjectType;
  let rate = sampleRate(bits);
  const channelConfiguration = bits.read(4);
  if (type === 5 || type === 29) {
    rate = sampleRate(bits); // extensionSamplingFrequency
    type = objectType(bits);
    if (type === 22) bits.read(4);
  }
  let channels = CHANNELS[channelConfiguration];
  if (channelConfiguration === 0 && [1, 2, 3, 4, 6, 7, 17, 19, 20, 21, 22, 23].includes(type)) {
    bits.read(1); // frameLengthFlag
    if (bits.read(1)) bits.read(14); // dependsOnCoreCoder, coreCoderDelay
    bits.read(1); // extensionFlag
    channels = programConfigChannels(bits);
  }
  if (channels === undefined || channels === 0) {
    throw new RangeError(`channelConfiguration ${channelConfiguration} is not supported`);
  }
  return { objectType: type, signalledObjectType, sampleRate: rate, channels };
}
