/**
 * Attention flow (Abnar & Zuidema 2020): the layers as a graph with a node per (layer, position) and an
 * edge (l−1, j) → (l, i) of capacity Â_l[i, j] (the rollout's mixing, residual included); the flow
 * from input token j to top position i is the maximum flow between those two nodes. Where rollout
 * sums the products along every path, flow is limited by each path's narrowest edges.
 *
 * Cost: one max-flow per input token for each top position asked for, each on a graph of up to L·T²
 * edges (half that under a causal mask). Only the nodes that can reach the target take part, but a
 * whole T×T flow matrix is T² max-flow problems: ask for the positions you need.
 */
import { FlowNetwork } from './maxFlow';
import type { Matrix } from './rollout';

/** A DAG built from the inputs upwards: every edge must be added after the edges into its start. */
class LayerGraph {
  private nodeCount = 0;
  private readonly from: number[] = [];
  private readonly to: number[] = [];
  private readonly capacity: number[] = [];

  /** `count` new nodes; returns the first one's index. */
  addNodes(count: number): number {
    this.nodeCount += count;
    return this.nodeCount - count;
  }

  /** Edges (first + j) → (target + i) with capacity scale · m[i, j], where that is positive. */
  connect(first: number, target: number, m: Matrix, scale = 1): void {
    for (let i = 0; i < m.rows; i++) {
      for (let j = 0; j < m.cols; j++) if (m.data[i * m.cols + j] > 0) this.addEdge(first + j, target + i, scale * m.data[i * m.cols + j]);
    }
  }

  /** Edges (first + i) → (target + i) of one capacity. */
  connectEach(first: number, target: number, count: number, capacity: number): void {
    for (let i = 0; i < count; i++) this.addEdge(first + i, target + i, capacity);
  }

  private addEdge(from: number, to: number, capacity: number): void {
    this.from.push(from);
    this.to.push(to);
    this.capacity.push(capacity);
  }

  /** The maximum flow from each of `sources` into `sink`, over the part of the graph that reaches the sink. */
  flowsInto(sink: number, sources: readonly number[]): Float64Array {
    const reaches = new Uint8Array(this.nodeCount);
    reaches[sink] = 1;
    for (let e = this.from.length - 1; e >= 0; e--) if (reaches[this.to[e]]) reaches[this.from[e]] = 1;
    const index = new Int32Array(this.nodeCount).fill(-1);
    let kept = 0;
    for (let node = 0; node < this.nodeCount; node++) if (reaches[node]) index[node] = kept++;
    const network = new FlowNetwork(kept);
    for (let e = 0; e < this.from.length; e++) {
      if (reaches[this.to[e]]) network.addEdge(index[this.from[e]], index[this.to[e]], this.capacity[e]);
    }
    return Float64Array.from(sources, (s) => (s !== sink && reaches[s] ? network.maxFlow(index[s], index[sink]) : 0));
  }
}

const range = (first: number, count: number) => Array.from({ length: count }, (_, i) => first + i);

/** A stack's input row and a row per layer above it: the first node of the input row and of the top row. */
function addStack(graph: LayerGraph, mixes: readonly Matrix[]): { inputs: number; top: number } {
  const inputs = graph.addNodes(mixes[0].cols);
  let top = inputs;
  for (const mix of mixes) {
    const layer = graph.addNodes(mix.rows);
    graph.connect(top, layer, mix);
    top = layer;
  }
  return { inputs, top };
}

/** The flow from every input token into top position `target` of one stack: [T]. */
export function attentionFlow(mixes: readonly Matrix[], target: number): Float64Array {
  if (!mixes.length) throw new RangeError('attention flow needs at least one layer');
  const size = mixes[0].rows;
  if (!(target >= 0 && target < size)) throw new RangeError(`target position ${target} is outside 0…${size - 1}`);
  const graph = new LayerGraph();
  const { inputs, top } = addStack(graph, mixes);
  return graph.flowsInto(top + target, range(inputs, size));
}

export interface EncoderDecoderFlow {
  /** [T_enc]: flow from each source token into the decoder's top position `target`. */
  readonly fromSource: Float64Array;
  /** [T_dec]: flow from each decoder input token into it. */
  readonly fromTarget: Float64Array;
}

/**
 * Flow through an encoder-decoder on the graph that encoderDecoderRollout sums over: the encoder's
 * layers; then per decoder layer a self-attention node row (edges Â_m) and a cross-attention node row
 * fed by the self-attention row (the residual, capacity ½) and by the encoder's top row (½·C̄_m).
 */
export function encoderDecoderFlow(encoderMixes: readonly Matrix[], decoderMixes: readonly Matrix[], crossMixes: readonly Matrix[], target: number): EncoderDecoderFlow {
  if (!encoderMixes.length || !decoderMixes.length) throw new RangeError('attention flow needs encoder and decoder layers');
  if (decoderMixes.length !== crossMixes.length) throw new RangeError(`${decoderMixes.length} decoder layers but ${crossMixes.length} cross-attention layers`);
  const sourceSize = encoderMixes[0].rows, targetSize = decoderMixes[0].rows;
  if (!(target >= 0 && target < targetSize)) throw new RangeError(`target position ${target} is outside 0…${targetSize - 1}`);
  const graph = new LayerGraph();
  const { inputs: sourceInputs, top: encoderTop } = addStack(graph, encoderMixes);
  const targetInputs = graph.addNodes(targetSize);
  let below = targetInputs;
  decoderMixes.forEach((mix, m) => {
    const attended = graph.addNodes(targetSize);
    graph.connect(below, attended, mix);
    const crossed = graph.addNodes(targetSize);
    graph.connectEach(attended, crossed, targetSize, 0.5);
    graph.connect(encoderTop, crossed, crossMixes[m], 0.5);
    below = crossed;
  });
  const flows = graph.flowsInto(below + target, [...range(sourceInputs, sourceSize), ...range(targetInputs, targetSize)]);
  return { fromSource: flows.subarray(0, sourceSize), fromTarget: flows.subarray(sourceSize) };
}
