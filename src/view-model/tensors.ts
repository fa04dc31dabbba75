/**
 * Where a run's weights are. The panel's run knows only the shapes of its layers; whoever keeps the
 * weights (the host's run store on disk, a standalone report's embedded chunks, a test's arrays)
 * hands them out through a TensorSource, one received layer message (one generation step) at a time.
 */
import type { LayerMessage } from '../protocol/messages';

export interface LayerTensors {
  /** [numHeads, queryLength, keyLength], zeros where a query does not see a key. */
  readonly probs: Float32Array;
  /** The values went through float16 (each within 2⁻¹² relative of the engine's). */
  readonly approximate?: boolean;
  /** [numHeads, keyLength]: ‖W_O,h · v_j‖, what value-weighted attention multiplies by (view-model/weighting.ts). */
  readonly valueNorms?: Float32Array;
}

export interface TensorSource {
  /** The weights of one received layer, or undefined when they cannot be had (yet). */
  tensors(layer: LayerMessage): LayerTensors | undefined;
}

/** Identifies a received layer within its run. */
export function layerKey(layer: Pick<LayerMessage, 'stack' | 'layer' | 'step'>): string {
  return `${layer.stack}|${layer.layer}|${layer.step ?? 0}`;
}

/** Weights held in memory: tests, and a report page once it has decoded a layer. */
export class MemoryTensors implements TensorSource {
  private readonly byLayer = new Map<string, LayerTensors>();

  set(layer: Pick<LayerMessage, 'stack' | 'layer' | 'step'>, tensors: LayerTensors): void {
    this.byLayer.set(layerKey(layer), tensors);
  }

  has(layer: Pick<LayerMessage, 'stack' | 'layer' | 'step'>): boolean {
    return this.byLayer.has(layerKey(layer));
  }

  tensors(layer: LayerMessage): LayerTensors | undefined {
    return this.byLayer.get(layerKey(layer));
  }
}
