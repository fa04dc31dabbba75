/**
 * `download`: fetches a Hub model's config, tokenizer and safetensors into the Hugging Face cache,
 * with a progress bar on stderr and the snapshot folder on stdout (for `--model "$(...)"`).
 * Ctrl-C stops it cleanly; running it again resumes where it stopped.
 */
import { downloadModel, DownloadProgress } from '../engine/hub';
import { EngineError } from '../engine/errors';
import { parseArgs } from './args';

const BAR_WIDTH = 30;

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** Redraws one line on a terminal; elsewhere (CI logs, pipes) prints a line per finished file. */
class ProgressBar {
  private lastDrawn = '';

  constructor(private readonly stream: NodeJS.WriteStream) {}

  update(p: DownloadProgress): void {
    if (!this.stream.isTTY) {
      if (p.fileBytes === p.fileTotal) this.stream.write(`${p.file} (${megabytes(p.fileTotal)}) ${p.filesDone}/${p.filesTotal} files\n`);
      return;
    }
    const fraction = p.bytesTotal ? p.bytesDone / p.bytesTotal : 1;
    const filled = Math.round(fraction * BAR_WIDTH);
    const line = `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ${megabytes(p.bytesDone)} / ${megabytes(p.bytesTotal)}  ${p.file}`;
    if (line === this.lastDrawn) return; // called per network chunk: draw only what changed
    this.stream.write(`\r${line.padEnd(this.lastDrawn.length)}`);
    this.lastDrawn = line;
  }

  finish(): void {
    if (this.lastDrawn) this.stream.write('\n');
    this.lastDrawn = '';
  }
}

export async function runDownload(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['revision'], []);
  const [spec, ...extra] = args.positional;
  if (!spec || extra.length) throw new EngineError('BAD_INPUT', 'download needs one model id: attention-inspector download <org/name> [--revision R].');
  const controller = new AbortController();
  const cancel = () => controller.abort();
  process.once('SIGINT', cancel);
  const bar = new ProgressBar(process.stderr);
  try {
    const result = await downloadModel(spec, { revision: args.values.get('revision'), signal: controller.signal, onProgress: (p) => bar.update(p) });
    bar.finish();
    const what = result.downloadedBytes ? `downloaded ${megabytes(result.downloadedBytes)}` : 'already in the cache';
    process.stderr.write(`${result.repoId} @ ${result.commit.slice(0, 10)}: ${what}\n`);
    process.stdout.write(`${result.snapshotPath}\n`);
  } finally {
    bar.finish();
    process.removeListener('SIGINT', cancel);
  }
  return 0;
}
