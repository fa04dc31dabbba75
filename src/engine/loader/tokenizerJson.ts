/**
 * tokenizer.json, checked before the tokenizers library sees it, wherever that library is known to
 * abort the whole process (a Rust panic) instead of returning an error: BPE merges whose pieces or
 * result are not in the vocabulary, a damaged SentencePiece charsmap, a TemplateProcessing that names a
 * special token it does not define or a second sequence in a single-text template. Each refusal names
 * the file and the field. Whatever this misses still cannot take the editor down: the engine runs in its
 * own process, and a crash there becomes ENGINE_CRASHED naming the file.
 *
 * `padding` and `truncation` are dropped, as transformers does for a plain `tokenizer(text)` call:
 * they only matter for batches, and a damaged one pads to millions of tokens (`"Fixed": 10000000`) or
 * panics (a stride not below max_length).
 */
import { EngineError } from '../errors';
import { readJsonObject } from './files';
import { precompiledCharsmapProblem } from './precompiledCharsmap';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

class TokenizerChecker {
  constructor(private readonly file: string) {}

  refuse(field: string, why: string): never {
    throw new EngineError('BAD_TOKENIZER', `${this.file}: field "${field}" ${why}. The tokenizer file is damaged or was written by a tool the tokenizers library does not read.`, {
      remedies: ['choose-model'], details: { file: this.file, field },
    });
  }

  /** A component and, for a Sequence, its parts, each with its field path. */
  *components(value: unknown, field: string, partsKey: string): Generator<[Json, string]> {
    if (!isObject(value)) return;
    yield [value, field];
    const parts = value[partsKey];
    if (value.type === 'Sequence' && Array.isArray(parts)) {
      for (const [i, part] of parts.entries()) yield* this.components(part, `${field}.${partsKey}[${i}]`, partsKey);
    }
  }

  model(model: unknown): void {
    if (!isObject(model)) this.refuse('model', 'must be an object');
    if (model.type === 'BPE') this.bpe(model);
  }

  /** The library builds each merge's token in a buffer as long as the longest token: a longer one panics. */
  private bpe(model: Json): void {
    const { vocab, merges } = model;
    if (!isObject(vocab)) this.refuse('model.vocab', 'must map tokens to ids');
    if (merges === undefined || merges === null) return;
    if (!Array.isArray(merges)) this.refuse('model.merges', 'must be a list');
    const prefix = typeof model.continuing_subword_prefix === 'string' ? Buffer.byteLength(model.continuing_subword_prefix) : 0;
    for (const [i, merge] of merges.entries()) {
      const pair = typeof merge === 'string' ? merge.split(' ') : merge;
      if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((p) => typeof p === 'string')) {
        this.refuse(`model.merges[${i}]`, `must be two tokens, not ${JSON.stringify(merge)}`);
      }
      const [a, b] = pair as [string, string];
      for (const piece of [a, b]) {
        if (!Object.hasOwn(vocab, piece)) this.refuse(`model.merges[${i}]`, `merges "${a}" and "${b}", but "${piece}" is not in model.vocab`);
      }
      const tail = Buffer.from(b).subarray(prefix);
      const merged = Buffer.byteLength(b) >= prefix ? a + tail.toString() : undefined;
      if (merged === undefined || Buffer.byteLength(merged) !== Buffer.byteLength(a) + tail.length || !Object.hasOwn(vocab, merged)) {
        this.refuse(`model.merges[${i}]`, `merges "${a}" and "${b}" into a token that is not in model.vocab`);
      }
    }
  }

  normalizer(normalizer: unknown): void {
    for (const [n, field] of this.components(normalizer, 'normalizer', 'normalizers')) {
      if (n.type === 'Precompiled') {
        const problem = precompiledCharsmapProblem(n.precompiled_charsmap);
        if (problem) this.refuse(`${field}.precompiled_charsmap`, problem);
      }
      // Inserting text at an empty match panics inside the library.
      if (n.type === 'Replace' && isObject(n.pattern) && n.content !== '' && matchesEmpty(n.pattern)) {
        this.refuse(`${field}.pattern`, `${JSON.stringify(n.pattern)} matches the empty string, which the tokenizers library cannot replace`);
      }
    }
  }

  /** TemplateProcessing looks special tokens up without checking, and a single text has no sequence B. */
  postProcessor(processor: unknown): void {
    for (const [p, field] of this.components(processor, 'post_processor', 'processors')) {
      if (p.type !== 'TemplateProcessing') continue;
      const special = isObject(p.special_tokens) ? p.special_tokens : {};
      for (const [name, token] of Object.entries(special)) {
        if (!isObject(token) || !Array.isArray(token.ids) || !Array.isArray(token.tokens) || token.ids.length !== token.tokens.length) {
          this.refuse(`${field}.special_tokens["${name}"]`, 'must list as many ids as tokens');
        }
      }
      for (const template of ['single', 'pair'] as const) {
        const pieces = p[template];
        if (!Array.isArray(pieces)) continue;
        for (const [i, piece] of pieces.entries()) {
          const { sequence, specialToken } = templatePiece(piece);
          const where = `${field}.${template}[${i}]`;
          if (specialToken !== undefined && !Object.hasOwn(special, specialToken)) {
            this.refuse(where, `names the special token "${specialToken}", which ${field}.special_tokens does not define`);
          }
          if (template === 'single' && sequence !== undefined && sequence !== 'A') this.refuse(where, `uses sequence ${sequence}, but a single text has only sequence A`);
        }
      }
    }
  }
}

/** True for an empty pattern, or a regex that JavaScript reads alike and that matches "" (others are left to the engine's isolation). */
function matchesEmpty(pattern: Json): boolean {
  if (typeof pattern.String === 'string') return pattern.String === '';
  if (typeof pattern.Regex !== 'string') return false;
  if (pattern.Regex === '') return true;
  try {
    return new RegExp(pattern.Regex, 'u').test('');
  } catch {
    return false;
  }
}

/** A template piece: {"Sequence": {"id": "A"}}, {"SpecialToken": {"id": "[CLS]"}}, or the string forms "$A", "$B:1", "[CLS]:0". */
function templatePiece(piece: unknown): { sequence?: string; specialToken?: string } {
  if (typeof piece === 'string') {
    const name = piece.replace(/:\d+$/, '');
    if (name.startsWith('$')) return { sequence: /^\$\d*$/.test(name) ? 'A' : name.slice(1).toUpperCase() };
    return { specialToken: name };
  }
  if (!isObject(piece)) return {};
  const sequence = isObject(piece.Sequence) ? piece.Sequence.id : undefined;
  const special = isObject(piece.SpecialToken) ? piece.SpecialToken.id : undefined;
  return { sequence: typeof sequence === 'string' ? sequence : undefined, specialToken: typeof special === 'string' ? special : undefined };
}

/** tokenizer.json checked, and what can only be checked once the library has loaded it. */
export interface CheckedTokenizerJson {
  /** The JSON for Tokenizer.fromString, without padding and truncation. */
  readonly text: string;
  /**
   * Added tokens matched after normalization: the library panics when one normalizes to nothing (a
   * control character or an accent under BERT's normalizer), so each must be normalized and checked.
   */
  readonly normalizedAddedTokens: readonly { readonly field: string; readonly content: string }[];
  refuse(field: string, why: string): never;
}

export function readTokenizerJson(file: string): CheckedTokenizerJson {
  const json = readJsonObject(file, 'BAD_TOKENIZER');
  const check = new TokenizerChecker(file);
  check.model(json.model);
  check.normalizer(json.normalizer);
  check.postProcessor(json.post_processor);
  const added = Array.isArray(json.added_tokens) ? json.added_tokens : [];
  const normalizedAddedTokens = added.flatMap((token, i) => (isObject(token) && token.normalized === true && typeof token.content === 'string' && token.content !== ''
    ? [{ field: `added_tokens[${i}]`, content: token.content }] : []));
  return { text: JSON.stringify({ ...json, padding: null, truncation: null }), normalizedAddedTokens, refuse: (field, why) => check.refuse(field, why) };
}
