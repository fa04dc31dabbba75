/** Opens a model folder (or the built-in demo) into a model plus its tokenizer. */
import * as fs from 'fs';
import * as path from 'path';
import { ModelConfig, readConfigFile } from './loader/config';
import type { DecoderConfig, DecoderFamily } from './loader/decoderConfig';
import { DemoModel, DemoTokenizer, isDemoModel } from './demo/demoModel';
import { EngineError } from './errors';
import { repoIdFromSnapshotPath } from './hub/cache';
import type { TransformerModel } from './model';
import { BartModel } from './models/bart';
import { BertModel } from './models/bert';
import { gemmaModel } from './models/gemma';
import { gpt2Model } from './models/gpt2';
import { gptNeoxModel } from './models/gptNeox';
import { llamaModel } from './models/llama';
import { olmo2Model } from './models/olmo2';
import { phi3Model } from './models/phi3';
import { qwen3Model } from './models/qwen3';
import { T5Model } from './models/t5';
import { HfTokenizer, TextTokenizer } from './tokenizer';
import { WeightFile } from './loader/weights';
import { numel } from './tensor';
import { checkSizesAgainstWeights } from './loader/sizeCheck';
import { type MemoryEstimate, type WeightSize, checkRunMemory, memoryBudget, weightMemory } from './memory';

export interface LoadedModel {
  readonly model: TransformerModel;
  /** Absent when the folder has no tokenizer.json (gpt2-sort): such models take ids only. */
  readonly tokenizer?: TextTokenizer;
  /** The folder, or "demo". */
  readonly source: string;
  /** The weights (absent for the demo): their size for memory estimates, their data to find a damaged tensor. */
  readonly weights?: WeightFile;
  /** Absent: nothing to count (the demo, a model built in a test). */
  readonly weightSize?: WeightSize;
}

/** The model file of each RoPE decoder family. */
const DECODERS: Record<DecoderFamily, (name: string, config: DecoderConfig, weights: WeightFile) => TransformerModel> = {
  llama: llamaModel, qwen3: qwen3Model, gemma: gemmaModel, gpt_neox: gptNeoxModel, phi3: phi3Model, olmo2: olmo2Model,
};

function buildModel(name: string, config: ModelConfig, weights: WeightFile): TransformerModel {
  switch (config.family) {
    case 'gpt2':
      return gpt2Model(name, config, weights);
    case 'bert':
      return new BertModel(name, config, weights);
    case 't5':
      return new T5Model(name, config, weights);
    case 'bart':
      return new BartModel(name, config, weights);
    default:
      return DECODERS[config.family](name, config, weights);
  }
}

export interface LoadOptions {
  /** The memory the model may take, in MB; absent or 0: half of the free memory. */
  readonly memoryBudgetMB?: number;
}

/** The weights' size from their headers. */
function sizeOf(weights: WeightFile): WeightSize {
  let heldBytes = 0;
  let largestStoredBytes = 0;
  for (const e of weights.entries()) {
    heldBytes += numel(e.shape) * (e.dtype === 'BF16' && e.shape.length === 2 ? 2 : 4);
    largestStoredBytes = Math.max(largestStoredBytes, e.end - e.begin);
  }
  return { heldBytes, largestStoredBytes };
}

export function loadModel(source: string, options: LoadOptions = {}): LoadedModel {
  if (isDemoModel(source)) return { model: new DemoModel(source === 'demo-causal'), tokenizer: new DemoTokenizer(), source };
  const folder = path.resolve(source);
  if (!fs.existsSync(folder) || !fs.statSync(folder).isDirectory()) {
    throw new EngineError('BAD_MODEL_FOLDER', `${folder} is not a folder.`, { remedies: ['choose-model'], details: { file: folder } });
  }
  const config = readConfigFile(folder);
  const weights = WeightFile.open(folder);
  // Nothing is allocated before the config's sizes agree with the weights and the weights fit.
  checkSizesAgainstWeights(config, weights, path.join(folder, 'config.json'));
  const weightSize = sizeOf(weights);
  const loading: MemoryEstimate = { weights: weightMemory(weightSize), activations: 0, retained: 0, total: weightMemory(weightSize) };
  checkRunMemory(loading, memoryBudget(options.memoryBudgetMB), `Loading ${folder}`);
  const name = repoIdFromSnapshotPath(folder) ?? path.basename(folder); // a cache snapshot is named by its commit
  const model = buildModel(name, config, weights);
  const tokenizer = fs.existsSync(path.join(folder, 'tokenizer.json')) ? HfTokenizer.load(folder) : undefined;
  return { model, tokenizer, source: folder, weights, weightSize };
}
