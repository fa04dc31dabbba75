/** A ModelInfo for view-model tests: the fields a test names, the rest filled with harmless values. */
import type { ModelInfo } from '../../src/protocol/run';

type Named = Pick<ModelInfo, 'name' | 'modelType' | 'kind' | 'numLayers' | 'numHeads' | 'numKvHeads' | 'headDim' | 'hiddenSize' | 'causal' | 'untrained'>;

export function modelInfo(fields: Named & Partial<ModelInfo>): ModelInfo {
  return { vocabSize: 1000, maxPositions: 4096, crossAttention: fields.kind === 'encoder-decoder', eosTokenIds: [], ...fields };
}
