/** The tiny models the fuzzer mutates copies of (from ../shared/models, never modified). */
import * as fs from 'fs';
import { sharedPath } from '../helpers/shared';

export interface BaseModel {
  readonly name: string;
  readonly folder: string;
  readonly kind: 'decoder-only' | 'encoder-only' | 'encoder-decoder';
  readonly hasTokenizer: boolean;
  readonly vocabSize: number;
  /** The files the engine reads, as bytes (read once). */
  readonly files: ReadonlyMap<string, Buffer>;
}

const MODELS: readonly { name: string; kind: BaseModel['kind'] }[] = [
  { name: 'llama-stories260K', kind: 'decoder-only' },
  { name: 'qwen2-tiny-random', kind: 'decoder-only' },
  { name: 'qwen2-tiny-random-f16', kind: 'decoder-only' },
  { name: 'qwen2-tiny-random-bf16', kind: 'decoder-only' },
  { name: 'gpt2-tiny-random', kind: 'decoder-only' },
  { name: 'gpt2-sort', kind: 'decoder-only' },
  { name: 'bert-tiny-random', kind: 'encoder-only' },
  { name: 't5-tiny-random', kind: 'encoder-decoder' },
  { name: 'bart-tiny-random', kind: 'encoder-decoder' },
  { name: 'qwen3-tiny-random', kind: 'decoder-only' },
  { name: 'mistral-tiny-random', kind: 'decoder-only' },
  { name: 'llama3-rope-tiny-random', kind: 'decoder-only' },
  { name: 'gemma2-tiny-random', kind: 'decoder-only' },
  { name: 'gemma3-tiny-random', kind: 'decoder-only' },
  { name: 'gptneox-tiny-random', kind: 'decoder-only' },
  { name: 'phi3-tiny-random', kind: 'decoder-only' },
  { name: 'olmo2-tiny-random', kind: 'decoder-only' },
];

const ENGINE_FILES = ['config.json', 'model.safetensors', 'tokenizer.json'];

let cache: BaseModel[] | undefined;

export function baseModels(): readonly BaseModel[] {
  cache ??= MODELS.map(({ name, kind }) => {
    const folder = sharedPath('models', name);
    const files = new Map<string, Buffer>();
    for (const file of ENGINE_FILES) if (fs.existsSync(`${folder}/${file}`)) files.set(file, fs.readFileSync(`${folder}/${file}`));
    const config = JSON.parse(files.get('config.json')!.toString('utf8'));
    return { name, folder, kind, hasTokenizer: files.has('tokenizer.json'), vocabSize: config.vocab_size, files };
  });
  return cache;
}
