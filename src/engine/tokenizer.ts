/**
 * Tokenization through Hugging Face's own Rust tokenizers (npm `tokenizers`, the Node binding of the
 * library transformers uses), so ids, tokens and offsets are exactly what Python produces. The pure-JS
 * `@huggingface/tokenizers` has no offsets API, and the editor needs offsets.
 *
 * Offsets come back as Unicode code point spans; the editor needs UTF-16 code units, so they are
 * converted here. A special token added by the post-processor has an empty span and gets `null`.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Offset, TokenizedText } from '../protocol/run';
import { EngineError } from './errors';
import { readTokenizerJson } from './loader/tokenizerJson';
import { duringNative, duringNativeAsync } from './nativeActivity';

export interface TextTokenizer {
  /** The tokenizer.json it reads, for messages (absent for the demo's built-in vocabulary). */
  readonly file?: string;
  encode(text: string, options?: { addSpecialTokens?: boolean }): Promise<TokenizedText>;
  decode(ids: readonly number[]): Promise<string>;
  idToToken(id: number): string;
}

type NativeTokenizer = import('tokenizers').Tokenizer;

/** Maps a code point index to a UTF-16 index for every position 0..length (inclusive). */
export function codePointToUtf16Map(text: string): Uint32Array {
  const map = new Uint32Array(text.length + 2);
  let cp = 0;
  for (let u = 0; u < text.length; cp++) {
    map[cp] = u;
    const code = text.codePointAt(u)!;
    u += code > 0xffff ? 2 : 1;
  }
  map[cp] = text.length;
  return map.subarray(0, cp + 1);
}

export class HfTokenizer implements TextTokenizer {
  private constructor(private readonly native: NativeTokenizer, readonly file: string) {}

  static load(folder: string): HfTokenizer {
    const file = path.join(folder, 'tokenizer.json');
    if (!fs.existsSync(file)) {
      throw new EngineError('BAD_TOKENIZER', `${folder} has no tokenizer.json (the fast-tokenizer file; transformers' tokenizer.save_pretrained writes it), so text cannot be tokenized.`, { remedies: ['pass-ids', 'choose-model'], details: { file } });
    }
    let Tokenizer: typeof import('tokenizers').Tokenizer;
    try {
      // Loaded lazily: the binding is a native module that only the engine needs.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      ({ Tokenizer } = require('tokenizers') as typeof import('tokenizers'));
    } catch (err) {
      throw new EngineError('BAD_TOKENIZER', `The tokenizer library (npm "tokenizers") has no native build for ${process.platform}-${process.arch} `
        + `in this installation (${(err as Error).message.split('\n')[0]}). Install the Attention Inspector package built for this platform, `
        + 'or the universal one; the built-in demo models need no tokenizer library.');
    }
    const json = readTokenizerJson(file);
    let native: NativeTokenizer;
    try {
      native = duringNative({ task: 'tokenizer-load', file }, () => Tokenizer.fromString(json.text));
    } catch (err) {
      throw new EngineError('BAD_TOKENIZER', `Cannot read ${file}: ${(err as Error).message.replace(/^Error loading from file/, '')}.`, { remedies: ['choose-model'], details: { file } });
    }
    const normalizer = json.normalizedAddedTokens.length ? native.getNormalizer() : null;
    for (const { field, content } of json.normalizedAddedTokens) {
      if (normalizer && duringNative({ task: 'tokenizer-load', file }, () => normalizer.normalizeString(content)) === '') {
        json.refuse(field, `is ${JSON.stringify(content)}, matched after normalization, but the normalizer turns it into nothing`);
      }
    }
    return new HfTokenizer(native, file);
  }

  async encode(text: string, options: { addSpecialTokens?: boolean } = {}): Promise<TokenizedText> {
    let enc: Awaited<ReturnType<NativeTokenizer['encode']>>;
    try {
      enc = await duringNativeAsync({ task: 'tokenizer-encode', file: this.file }, () => this.native.encode(text, null, { addSpecialTokens: options.addSpecialTokens ?? true }));
    } catch (err) {
      throw new EngineError('BAD_TOKENIZER', `${this.file} cannot tokenize this text: ${(err as Error).message}. The tokenizer's settings (its model, unk_token and vocab) do not cover it.`, {
        remedies: ['choose-model'], details: { file: this.file },
      });
    }
    const cpToU16 = codePointToUtf16Map(text);
    const specialMask = enc.getSpecialTokensMask();
    const offsetsUtf16 = enc.getOffsets().map(([start, end], i): Offset => {
      if (specialMask[i] === 1 && start === end) return null;
      return [cpToU16[start], cpToU16[end]];
    });
    return { ids: enc.getIds(), tokens: enc.getTokens(), offsetsUtf16, special: specialMask.map((m) => m === 1) };
  }

  async decode(ids: readonly number[]): Promise<string> {
    try {
      return await duringNativeAsync({ task: 'tokenizer-decode', file: this.file }, () => this.native.decode([...ids], false));
    } catch (err) {
      throw new EngineError('BAD_TOKENIZER', `${this.file} cannot turn the generated ids back into text: ${(err as Error).message}.`, { remedies: ['choose-model'], details: { file: this.file } });
    }
  }

  idToToken(id: number): string {
    return this.native.idToToken(id) ?? `<${id}>`;
  }
}
