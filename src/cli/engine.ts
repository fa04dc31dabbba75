/**
 * The CLI's engine: the same client and separate process the editor uses, so a tokenizer that aborts,
 * a GPU driver that crashes or a run that exhausts memory ends the engine, not the command, which
 * reports what happened and exits 1. The engine's own output (Dawn's log lines, a panic's text) is
 * not shown, since its errors come back as messages; --verbose shows it.
 */
import * as path from 'path';
import { EngineClient } from '../engine/worker/engineClient';

/** The engine script beside the CLI's bundle (dist/engineWorker.js). */
export const ENGINE_SCRIPT = path.join(__dirname, 'engineWorker.js');

export interface EngineOptions {
  /** The run's memory budget in MB (--memory-budget); absent: half of the free memory. */
  readonly memoryBudgetMB?: number;
  /** Show the engine's own output (--verbose). */
  readonly verbose?: boolean;
}

export async function withEngine<T>(options: EngineOptions, use: (engine: EngineClient) => Promise<T>): Promise<T> {
  const engine = new EngineClient(ENGINE_SCRIPT, {
    memoryBudgetMB: () => options.memoryBudgetMB,
    onOutput: options.verbose ? (text) => process.stderr.write(text) : undefined,
  });
  try {
    return await use(engine);
  } finally {
    await engine.dispose();
  }
}
