/**
 * attention-inspector: the engine from a terminal.
 *   inspect   run a model and write its attention (safetensors) and metadata (JSON)
 *   analyze   head roles (previous-token, sink, entropy, induction, …), attention rollout and flow
 *   tokenize  print ids, tokens and UTF-16 offsets
 *   demo      the tutorial's sentence on the built-in demo model, offline
 *   download  fetch a Hugging Face Hub model into the Hugging Face cache
 */
import { isEngineError } from '../engine/errors';
import { runAnalyze } from './analyzeCommand';
import { cliErrorText } from './errorText';
import { runDemo } from './demoCommand';
import { runDownload } from './downloadCommand';
import { runInspect } from './inspectCommand';
import { runTokenize } from './tokenizeCommand';
import { inIsolatedChild, runIsolated } from './isolated';

const USAGE = `Usage:
  attention-inspector inspect --model <folder|org/name[@revision]|demo|demo-causal> (--text S | --text-file F | --ids 1,2,3)
      [--target-text S | --target-ids 1,2,3 | --generate N] [--backend auto|cpu|webgpu]
      [--out result.safetensors] [--json meta.json] [--html report.html] [--hidden-states] [--scores]
      [--memory-budget MB]   (default: half of the free memory)
      [--past-context]       (a rotary model runs past max_position_embeddings, outside its trained context)
  attention-inspector analyze --model <folder|org/name[@revision]|demo> (--text S | --text-file F | --ids 1,2,3)
      [--target-text S | --target-ids 1,2,3] [--backend auto|cpu|webgpu] [--json analysis.json] [--top K]
      [--induction-n 50] [--seed 0] [--flow-target POSITION]
  attention-inspector tokenize --model <folder|org/name[@revision]> (--text S | --text-file F | --jsonl F)
  attention-inspector demo [--backend auto|cpu|webgpu]   (also writes attention-demo.html in the current folder)
  attention-inspector download <org/name> [--revision R]
      into HF_HUB_CACHE (default ~/.cache/huggingface/hub) from HF_ENDPOINT; HF_TOKEN for gated models
  --verbose (any command): also show the engine's native log lines (Dawn's warnings, a crash's panic), hidden otherwise
`;

async function main(argv: string[]): Promise<number> {
  const verbose = argv.includes('--verbose');
  const args = argv.filter((a) => a !== '--verbose');
  const [command, ...rest] = args;
  // inspect and demo run the engine in its own process; analyze and tokenize call native code here, so
  // they run in a child copy of this command (isolated.ts). A crash in either is a clean error, exit 1.
  const isolated = (run: () => Promise<number>) => (inIsolatedChild() ? run() : runIsolated(args, { verbose }));
  switch (command) {
    case 'inspect':
      return runInspect(rest, { verbose });
    case 'analyze':
      return isolated(() => runAnalyze(rest));
    case 'tokenize':
      return isolated(() => runTokenize(rest));
    case 'demo':
      return runDemo(rest, { verbose });
    case 'download':
      return runDownload(rest);
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`Unknown command "${command}".\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (isEngineError(err)) {
      process.stderr.write(`error: ${cliErrorText(err)}\n`);
    } else {
      process.stderr.write(`internal error: ${err instanceof Error ? err.stack : String(err)}\n`);
    }
    process.exit(1);
  },
);
