/**
 * Runs for view-model tests, built as the host builds them: the run's messages go to an AttentionRun,
 * a layer's weights (given with its message, as tests like to write them) to its TensorSource.
 */
import type { LayerMessage, RunMessage } from '../../src/protocol/messages';
import { AttentionRun } from '../../src/view-model/attentionRun';
import { MemoryTensors } from '../../src/view-model/tensors';

/** A layer message with its weights. */
export type LayerWithData = LayerMessage & { readonly probs: Float32Array; readonly valueNorms?: Float32Array };

export class StoredRun {
  readonly tensors = new MemoryTensors();
  readonly run = new AttentionRun(this.tensors);

  constructor(messages: readonly (RunMessage | LayerWithData)[] = []) {
    for (const m of messages) this.accept(m);
  }

  /** Accepts a message as the run does; a layer's weights are kept when the run takes it. */
  accept(message: RunMessage | LayerWithData): boolean {
    if (message.type !== 'layer' || !('probs' in message)) return this.run.accept(message);
    const { probs, valueNorms, ...shape } = message;
    const taken = this.run.accept(shape);
    if (taken) this.tensors.set(shape, { probs, ...(valueNorms && { valueNorms }) });
    return taken;
  }
}

/** The run of `messages`, with their weights. */
export function storedRun(messages: readonly (RunMessage | LayerWithData)[]): AttentionRun {
  return new StoredRun(messages).run;
}
