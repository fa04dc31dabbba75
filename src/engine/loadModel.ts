/** Opens a model folder (or the built-in demo) into a model plus its tokenizer. */
import * as fs from 'fs';
import * as path from 'path';
import { readConfigFile } from './loader/config';
import { DemoModel, DemoTokenizer, isDemoModel } from './demo/demoModel';
import { EngineError } from './errors';
import { repoIdFromSnapshotPath } from './hub/cache';
import type { TransformerModel } from './model';
import { BartModel } from './models/bart';
import { BertModel } from './models/bert';
import { Gpt2Model } from './models/gpt2';
import { LlamaModel } from './models/llama';
import { T5Model } from './models/t5';
import { HfTokenizer, TextTokenizer } from './tokenizer';
import { WeightFile } from './loader/weights';

export interface LoadedModel {
  readonly model: TransformerModel;
  /** Absent when the folder has no tokenizer.json (gpt2-sort): such models take ids only. */
  readonly tokenizer?: TextTokenizer;
  /** The folder, or "demo". */
  readonly source: string;
}

export function loadModel(source: string): LoadedModel {
  if (isDemoModel(source)) return { model: new DemoModel(source === 'demo-causal'), tokenizer: new DemoTokenizer(), source };
  const folder = path.resolve(source);
  if (!fs.existsSync(folder) || !fs.statSync(folder).isDirectory()) {
    throw new EngineError('BAD_MODEL_FOLDER', `${folder} is not a folder.`, { remedies: ['choose-model'], details: { file: folder } });
  }
  const config = readConfigFile(folder);
  const weights = WeightFile.open(folder);
  const name = repoIdFromSnapshotPath(folder) ?? path.basename(folder); // a cache snapshot is named by its commit
  let model: TransformerModel;
  switch (config.family) {
    case 'gpt2':
      model = new Gpt2Model(name, config, weights);
      break;
    case 'llama':
      model = new LlamaModel(name, config, weights);
      break;
    case 'bert':
      model = new BertModel(name, config, weights);
      break;
    case 't5':
      model = new T5Model(name, config, weights);
      break;
    case 'bart':
      model = new BartModel(name, config, weights);
      break;
  }
  const tokenizer = fs.existsSync(path.join(folder, 'tokenizer.json')) ? HfTokenizer.load(folder) : undefined;
  return { model, tokenizer, source: folder };
}
