/** Typed, named access to config.json fields: every missing or nonsensical field is reported by name. */
import { EngineError } from '../errors';

export type Activation = 'gelu_erf' | 'gelu_tanh' | 'relu' | 'silu';

/** The fields every architecture's config has, normalized. */
export interface CommonConfig {
  readonly modelType: string;
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  readonly headDim: number;
  readonly intermediateSize: number;
  readonly maxPositions: number;
  readonly tieWordEmbeddings: boolean;
  readonly dtype: string | undefined;
  readonly eosTokenIds: number[];
}

export type Raw = Record<string, unknown>;

/**
 * The largest count a config field may hold. Every size is cross-checked against the weights before
 * anything is allocated (sizeCheck.ts); this bound keeps counts that no weights check can reach
 * (layers of an absent stack, position limits) inside what arrays and typed arrays can index.
 */
const MAX_CONFIG_INTEGER = 2 ** 31 - 1;

/**
 * Tighter bounds for the counts a config parser itself sizes arrays by (one entry per layer) before any
 * weight can contradict them: far above any real model, far below what would take seconds to build.
 */
const COUNT_LIMITS: Readonly<Record<string, number>> = Object.fromEntries([
  ...['num_hidden_layers', 'n_layer', 'num_layers', 'num_decoder_layers', 'encoder_layers', 'decoder_layers'].map((f) => [f, 10_000]),
  ...['num_attention_heads', 'n_head', 'num_heads', 'num_key_value_heads', 'encoder_attention_heads', 'decoder_attention_heads'].map((f) => [f, 100_000]),
]);

const FLOAT32_MIN_NORMAL = 2 ** -126;
const FLOAT32_MAX = 3.4028234663852886e38;

export class ConfigReader {
  constructor(
    private readonly raw: Raw,
    private readonly file: string,
    /** For a nested object: its path, so messages name "rope_scaling.factor". */
    private readonly path = '',
  ) {}

  reject(field: string, why: string): never {
    const name = this.path + field;
    throw new EngineError('BAD_CONFIG', `${this.file}: field "${name}" ${why}.`, { remedies: ['choose-model'], details: { file: this.file, field: name } });
  }

  /** A nested object (rope_scaling, rope_parameters …) read with the same checks; undefined when absent or null. */
  nested(field: string): ConfigReader | undefined {
    const v = this.raw[field];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'object' || Array.isArray(v)) this.reject(field, `must be an object, not ${JSON.stringify(v)}`);
    return new ConfigReader(v as Raw, this.file, `${this.path}${field}.`);
  }

  /** A list of strings (layer_types); undefined when absent or null. */
  strList(field: string): string[] | undefined {
    const v = this.raw[field];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) this.reject(field, `must be a list of strings, not ${JSON.stringify(v)}`);
    return v as string[];
  }

  has(field: string): boolean {
    return this.raw[field] !== undefined && this.raw[field] !== null;
  }

  /** The field is written in the file, possibly as null (which can differ from a default: "sliding_window": null). */
  declares(field: string): boolean {
    return this.raw[field] !== undefined;
  }

  /** A count or size: a positive integer no larger than MAX_CONFIG_INTEGER. */
  int(field: string, fallback?: number): number {
    const v = this.raw[field] ?? fallback;
    if (v === undefined || v === null) this.reject(field, 'is missing');
    if (!Number.isInteger(v) || (v as number) <= 0) this.reject(field, `must be a positive integer, not ${JSON.stringify(v)}`);
    const max = COUNT_LIMITS[field] ?? MAX_CONFIG_INTEGER;
    if ((v as number) > max) this.reject(field, `is ${v}, larger than any model has (at most ${max})`);
    return v as number;
  }

  /** eos_token_id and friends: absent, one id, or a list of ids. */
  idList(field: string): number[] {
    const v = this.raw[field];
    if (v === undefined || v === null) return [];
    const ids = Array.isArray(v) ? v : [v];
    if (!ids.every((id) => Number.isInteger(id) && id >= 0 && id <= MAX_CONFIG_INTEGER)) this.reject(field, `must be a token id or a list of ids, not ${JSON.stringify(v)}`);
    return ids as number[];
  }

  /** A non-negative integer (token ids may be 0). */
  intOrZero(field: string, fallback?: number): number {
    const v = this.raw[field] ?? fallback;
    if (v === undefined || v === null) this.reject(field, 'is missing');
    if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > MAX_CONFIG_INTEGER) {
      this.reject(field, `must be a non-negative integer (at most ${MAX_CONFIG_INTEGER}), not ${JSON.stringify(v)}`);
    }
    return v as number;
  }

  /**
   * A positive number that float32 holds as a normal number: every real-valued config field the models
   * compute with is one (norm epsilons, RoPE theta and scaling factors). Zero, a negative, a string, or
   * an epsilon that float32 rounds to zero would turn outputs into NaN.
   */
  num(field: string, fallback?: number): number {
    const v = this.raw[field] ?? fallback;
    if (v === undefined || v === null) this.reject(field, 'is missing');
    if (typeof v !== 'number' || !(v >= FLOAT32_MIN_NORMAL && v <= FLOAT32_MAX)) {
      this.reject(field, `must be a positive number between ${FLOAT32_MIN_NORMAL.toPrecision(2)} and ${FLOAT32_MAX.toPrecision(2)}, not ${JSON.stringify(v)}`);
    }
    return v;
  }

  bool(field: string, fallback: boolean): boolean {
    const v = this.raw[field] ?? fallback;
    if (typeof v !== 'boolean') this.reject(field, `must be true or false, not ${JSON.stringify(v)}`);
    return v;
  }

  str(field: string, fallback?: string): string {
    const v = this.raw[field] ?? fallback;
    if (typeof v !== 'string') this.reject(field, v === undefined ? 'is missing' : `must be a string, not ${JSON.stringify(v)}`);
    return v;
  }

  activation(field: string, fallback: string): Activation {
    return this.activationNamed(field, this.str(field, fallback));
  }

  activationNamed(field: string, name: string): Activation {
    const map: Record<string, Activation> = {
      gelu: 'gelu_erf',
      gelu_new: 'gelu_tanh',
      gelu_pytorch_tanh: 'gelu_tanh',
      gelu_fast: 'gelu_tanh',
      relu: 'relu',
      silu: 'silu',
      swish: 'silu',
    };
    const act = map[name];
    if (!act) this.reject(field, `names activation "${name}", which is not supported (supported: ${Object.keys(map).join(', ')})`);
    return act;
  }

  dtype(): string | undefined {
    const v = this.raw.dtype ?? this.raw.torch_dtype;
    return typeof v === 'string' ? v : undefined;
  }

  divides(field: string, whole: number, part: number, wholeName: string): void {
    if (whole % part !== 0) this.reject(field, `(${part}) must divide ${wholeName} (${whole})`);
  }
}
