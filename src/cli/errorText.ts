/** Engine errors worded for a terminal: the fact, then what to do with this CLI's own flags and commands. */
import { EngineError, type Remedy } from '../engine/errors';

function remedyText(remedy: Remedy, err: EngineError): string {
  const { repoId, revision } = err.details;
  switch (remedy) {
    case 'use-cpu':
      return 'Run on the CPU with --backend cpu (or auto).';
    case 'pass-ids':
      return 'Pass token ids instead of text: --ids 1,2,3.';
    case 'shorter-input':
      return 'Use a shorter text.';
    case 'past-context':
      return 'Or pass --past-context to run this rotary model past its trained context.';
    case 'choose-model':
      return 'Pass --model with a Hugging Face model folder (config.json, *.safetensors, tokenizer.json), a cached Hub id (org/name), or demo.';
    case 'download-model':
      return repoId
        ? `Download it first: attention-inspector download ${repoId}${revision && revision !== 'main' ? ` --revision ${revision}` : ''}`
        : 'Download it first with attention-inspector download.';
    case 'allow-downloads':
      return 'Unset HF_HUB_OFFLINE (and TRANSFORMERS_OFFLINE) to download it.';
    case 'install-webgpu':
      return 'Install a Vulkan driver (without a GPU: Mesa ≥ 25 lavapipe, see scripts/setup/10-webgpu.sh), or run on the CPU with --backend cpu.';
    case 'retry':
      return 'Run the command again.';
    case 'raise-memory-budget':
      return `Allow more memory with --memory-budget MB${err.details.bytes ? ` (this needs about ${Math.ceil(err.details.bytes / 2 ** 20)} MB)` : ''}.`;
  }
}

/** The message and every remedy, one sentence each, for stderr. */
export function cliErrorText(err: EngineError): string {
  // install-webgpu already names the CPU; its use-cpu twin would repeat it.
  const remedies = err.remedies.includes('install-webgpu') ? err.remedies.filter((r) => r !== 'use-cpu') : err.remedies;
  return [err.message, ...remedies.map((r) => remedyText(r, err))].join(' ');
}
