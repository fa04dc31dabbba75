/** What one fuzz case is: which model folder, damaged how, and what input it is asked to inspect. */
import type { InspectInput } from '../../src/engine/inspect';
import type { ForwardWants } from '../../src/engine/model';
import type { BaseModel } from './models';

export const FAMILIES = ['safetensors', 'shards', 'config', 'tokenizer', 'input'] as const;
export type Family = (typeof FAMILIES)[number];

/** A file's new content, a folder in its place, or nothing (removed). */
export type FileEntry = Buffer | 'directory' | null;

export interface CasePlan {
  readonly index: number;
  readonly family: Family;
  /** The mutation's name, for the counts per mutation. */
  readonly mutation: string;
  /** What exactly was done, for a reproducer. */
  readonly detail: string;
  readonly model: BaseModel;
  /** Files written over the base model's (the others are linked to it); absent: the base folder as is. */
  readonly files?: ReadonlyMap<string, FileEntry>;
  readonly input: InspectInput;
  readonly wants: ForwardWants;
  /** The damaged file: an error about it must name it. */
  readonly blame?: string;
  /** The damage always makes the folder invalid: a run that succeeds accepted it silently. */
  readonly mustRefuse?: boolean;
}

/** A mutation's result before the case's input is chosen. */
export interface Mutated {
  readonly mutation: string;
  readonly detail: string;
  readonly files: Map<string, FileEntry>;
  readonly blame?: string;
  readonly mustRefuse?: boolean;
}
