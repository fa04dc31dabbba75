/** A small flag parser: `--name value`, `--flag`, and positional words. Unknown flags are errors. */
import * as fs from 'fs';
import { EngineError } from '../engine/errors';

export interface ParsedArgs {
  readonly positional: string[];
  readonly values: Map<string, string>;
  readonly flags: Set<string>;
}

export function parseArgs(argv: readonly string[], valueNames: readonly string[], flagNames: readonly string[]): ParsedArgs {
  const positional: string[] = [];
  const values = new Map<string, string>();
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2);
    if (flagNames.includes(name)) {
      flags.add(name);
    } else if (valueNames.includes(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new EngineError('BAD_INPUT', `--${name} needs a value.`);
      values.set(name, value);
    } else {
      throw new EngineError('BAD_INPUT', `Unknown option --${name}. Run with --help for usage.`);
    }
  }
  return { positional, values, flags };
}

export function parseIdList(value: string, flag: string): number[] {
  const ids = value.split(/[\s,]+/).filter(Boolean).map(Number);
  if (!ids.length || ids.some((id) => !Number.isInteger(id) || id < 0)) {
    throw new EngineError('BAD_INPUT', `--${flag} must be a comma-separated list of non-negative integers, not "${value}".`);
  }
  return ids;
}

export function readTextArg(args: ParsedArgs, textFlag: string, fileFlag: string): string | undefined {
  const file = args.values.get(fileFlag);
  if (file === undefined) return args.values.get(textFlag);
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new EngineError('BAD_INPUT', `Cannot read --${fileFlag} ${file}: ${(err as Error).message}`);
  }
}

export function parseCount(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new EngineError('BAD_INPUT', `--${flag} must be a positive whole number, not "${value}".`);
  return n;
}
