/**
 * Keeps Dawn's own log lines out of the CLI's output. Dawn (npm `webgpu`) prints lines such as
 * "Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit
 * dynamic offset allocation limit." from native code, straight to file descriptor 2, when it lists the
 * adapters. It has no flag to silence them, and nothing in Node can redirect a native write to fd 2
 * inside the same process. So WebGPU only ever opens in another process: the engine's (inspect, demo:
 * its output is shown only with --verbose) or a child copy of the CLI (isolated.ts: analyze, tokenize),
 * whose stderr passes through `DawnLogFilter` unless --verbose.
 */

/**
 * Dawn's log format is `<Severity>: <message>` (dawn/common/Log.cpp). Its warnings, infos and debug lines
 * are dropped; its errors are kept. The CLI's own messages start in lower case ("error: …").
 */
const DAWN_PREFIXES = ['Warning: ', 'Info: ', 'Debug: '];
const isDawnLine = (line: string): boolean => DAWN_PREFIXES.some((prefix) => line.startsWith(prefix));
/** True while a partial line may still become one of Dawn's. */
const couldBeDawnLine = (partial: string): boolean => DAWN_PREFIXES.some((prefix) => prefix.startsWith(partial) || partial.startsWith(prefix));

/**
 * Passes text on line by line (a line ends at \n, \r or \r\n), dropping Dawn's log lines; a partial line
 * that cannot be one passes at once, so a progress bar redrawn with \r still moves.
 */
export class DawnLogFilter {
  private pending = '';
  /** A dropped line ended in \r at the end of a chunk: a \n that follows belongs to it. */
  private dropNewline = false;

  constructor(private readonly write: (text: string) => void) {}

  push(chunk: string): void {
    let text = this.pending + chunk;
    if (this.dropNewline && text.startsWith('\n')) text = text.slice(1);
    this.dropNewline = false;
    let out = '';
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      if (text[i] !== '\n' && text[i] !== '\r') continue;
      const dawn = isDawnLine(text.slice(start, i));
      if (text[i] === '\r' && text[i + 1] === '\n') i++;
      else if (dawn && text[i] === '\r' && i === text.length - 1) this.dropNewline = true;
      if (!dawn) out += text.slice(start, i + 1);
      start = i + 1;
    }
    this.pending = text.slice(start);
    if (this.pending && !couldBeDawnLine(this.pending)) {
      out += this.pending;
      this.pending = '';
    }
    if (out) this.write(out);
  }

  end(): void {
    if (this.pending && !isDawnLine(this.pending)) this.write(this.pending);
    this.pending = '';
  }
}
