/**
 * Case i of a seed: its family (taken in turn, so every slice of the run covers all five), the model,
 * the damage and the input. Deterministic: the same seed and index give the same case anywhere.
 */
import { SUPPORTED_MODEL_TYPES } from '../../src/engine/loader/config';
import { mutateConfig } from './mutate/config';
import { chooseInput, plainInput, randomWants } from './mutate/input';
import { mutateSafetensors } from './mutate/safetensors';
import { mutateShards } from './mutate/shards';
import { mutateTokenizer } from './mutate/tokenizer';
import { BaseModel, baseModels } from './models';
import { CasePlan, FAMILIES, Mutated } from './plan';
import { Rng, caseRng } from './rng';

/** The real GPT-2 tokenizer is 3.4 MB: it is picked less often so that a run stays quick. */
function pickModel(rng: Rng, models: readonly BaseModel[]): BaseModel {
  const weighted = models.flatMap((m) => (m.name.startsWith('gpt2-tiny') ? [m] : [m, m, m]));
  return rng.pick(weighted);
}

function mutateFolder(rng: Rng, family: CasePlan['family'], model: BaseModel): Mutated {
  switch (family) {
    case 'safetensors': {
      const damage = mutateSafetensors(rng, model.files.get('model.safetensors')!);
      return { mutation: damage.mutation, detail: damage.detail, files: new Map([['model.safetensors', damage.bytes]]), blame: 'model.safetensors', mustRefuse: damage.mustRefuse };
    }
    case 'shards':
      return mutateShards(rng, model.files.get('model.safetensors')!);
    case 'config':
      return mutateConfig(rng, model.files.get('config.json')!, SUPPORTED_MODEL_TYPES);
    case 'tokenizer':
      return mutateTokenizer(rng, model.files.get('tokenizer.json')!);
    case 'input':
      throw new Error('the input family keeps the folder');
  }
}

export function makeCase(seed: number, index: number): CasePlan {
  const rng = caseRng(seed, index);
  const family = FAMILIES[index % FAMILIES.length];
  const models = baseModels().filter((m) => family !== 'tokenizer' || m.hasTokenizer);
  const model = pickModel(rng, models);
  if (family === 'input') {
    const choice = chooseInput(rng, model);
    return { index, family, mutation: choice.mutation, detail: choice.detail, model, input: choice.input, wants: choice.wants };
  }
  const damage = mutateFolder(rng, family, model);
  return { index, family, mutation: damage.mutation, detail: damage.detail, model, files: damage.files, input: plainInput(rng, model), wants: randomWants(rng), blame: damage.blame, mustRefuse: damage.mustRefuse };
}
