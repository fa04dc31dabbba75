/** `tokenize`: ids, tokens and UTF-16 offsets as JSON, one text or one line of a JSONL file at a time. */
import * as fs from 'fs';
import { EngineError } from '../engine/errors';
import { resolveModelSource } from '../engine/hub';
import { loadModel } from '../engine/loadModel';
import type { TextTokenizer } from '../engine/tokenizer';
import { parseArgs, readTextArg } from './args';

async function encodeJson(tokenizer: TextTokenizer, text: string): Promise<string> {
  const enc = await tokenizer.encode(text);
  return JSON.stringify({ input_ids: enc.ids, tokens: enc.tokens, offsets_utf16: enc.offsetsUtf16 });
}

export async function runTokenize(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['model', 'text', 'text-file', 'jsonl'], []);
  const modelPath = args.values.get('model');
  if (!modelPath) throw new EngineError('BAD_INPUT', 'tokenize needs --model <folder|org/name>.');
  const { tokenizer, model } = loadModel(resolveModelSource(modelPath).path);
  if (!tokenizer) throw new EngineError('BAD_TOKENIZER', `${model.info.name} has no tokenizer.json.`);
  const jsonl = args.values.get('jsonl');
  if (jsonl !== undefined) {
    const lines = fs.readFileSync(jsonl, 'utf8').split('\n');
    for (const [i, line] of lines.entries()) {
      if (!line.trim()) continue;
      let text: unknown;
      try {
        text = JSON.parse(line).text;
      } catch (err) {
        throw new EngineError('BAD_INPUT', `${jsonl} line ${i + 1} is not JSON: ${(err as Error).message}`);
      }
      if (typeof text !== 'string') throw new EngineError('BAD_INPUT', `${jsonl} line ${i + 1} has no "text" string.`);
      process.stdout.write((await encodeJson(tokenizer, text)) + '\n');
    }
    return 0;
  }
  const text = readTextArg(args, 'text', 'text-file');
  if (text === undefined) throw new EngineError('BAD_INPUT', 'tokenize needs --text, --text-file or --jsonl.');
  process.stdout.write((await encodeJson(tokenizer, text)) + '\n');
  return 0;
}
