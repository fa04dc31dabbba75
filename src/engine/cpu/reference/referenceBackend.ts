/** The CPU backend: the reference kernels behind the Backend interface. Always available. */
import type {
  AttentionOptions, AttentionResult, Backend, BackendDescription, DeviceTensor, HeadLayout, LinearOptions,
  LiveTensors, PointwiseActivation, RopeSpec, SplitPart,
} from '../../backend';
import { checkValueNormShapes } from '../../backend';
import { HostTensor, numel, toFloat32 } from '../../tensor';
import * as k from '.';

class CpuTensor implements DeviceTensor {
  constructor(
    readonly shape: readonly number[],
    readonly data: Float32Array,
  ) {}
}

function data(t: DeviceTensor): Float32Array {
  return (t as CpuTensor).data;
}

function cols(t: DeviceTensor): number {
  return t.shape[t.shape.length - 1];
}

/** An RMSNorm weight covers a whole row or a whole number of equal groups (heads) of it. */
function checkNormGroups(x: DeviceTensor, weight: DeviceTensor): void {
  if (cols(x) % weight.shape[0] !== 0) throw new Error(`rmsNorm: a weight of ${weight.shape[0]} does not divide rows of ${cols(x)}`);
}

export class ReferenceBackend implements Backend {
  readonly description: BackendDescription;
  /** Counted, not held: garbage collection frees the arrays, and the count shows what a model never released. */
  private live = { count: 0, bytes: 0 };
  private readonly released = new WeakSet<DeviceTensor>();
  private readonly weights = new WeakSet<DeviceTensor>();

  /** `whyNotWasm`: shown in the name when this reference stands in for the WebAssembly kernels. */
  constructor(whyNotWasm?: string) {
    this.description = { kind: 'cpu', name: whyNotWasm ? `CPU (JavaScript: ${whyNotWasm})` : 'CPU (JavaScript)' };
  }

  upload(weight: HostTensor): DeviceTensor {
    const t = this.tensor(weight.shape, toFloat32(weight));
    this.weights.add(t);
    return t;
  }

  fromFloat32(values: Float32Array, shape: readonly number[]): DeviceTensor {
    if (values.length !== numel(shape)) throw new Error(`fromFloat32: ${values.length} values for shape [${shape}]`);
    return this.tensor(shape, values);
  }

  gather(table: DeviceTensor, ids: Int32Array): DeviceTensor {
    return this.tensor([ids.length, cols(table)], k.gather(data(table), cols(table), ids));
  }

  linear(x: DeviceTensor, weight: DeviceTensor, options: LinearOptions = {}): DeviceTensor {
    const [rows, inDim] = x.shape;
    const [outDim, wIn] = weight.shape;
    if (wIn !== inDim) throw new Error(`linear: x has ${inDim} columns but the weight expects ${wIn}`);
    const out = k.linear(
      data(x), data(weight), rows, inDim, outDim,
      options.bias && data(options.bias), options.activation, options.residual && data(options.residual),
    );
    return this.tensor([rows, outDim], out);
  }

  add(a: DeviceTensor, b: DeviceTensor): DeviceTensor {
    return this.tensor(a.shape, k.add(data(a), data(b)));
  }

  scale(x: DeviceTensor, factor: number): DeviceTensor {
    return this.tensor(x.shape, k.scale(data(x), factor));
  }

  softCap(x: DeviceTensor, cap: number): DeviceTensor {
    return this.tensor(x.shape, k.softCap(data(x), cap));
  }

  layerNorm(x: DeviceTensor, weight: DeviceTensor, bias: DeviceTensor, eps: number): DeviceTensor {
    return this.tensor(x.shape, k.layerNorm(data(x), data(weight), data(bias), cols(x), eps));
  }

  rmsNorm(x: DeviceTensor, weight: DeviceTensor, eps: number): DeviceTensor {
    checkNormGroups(x, weight);
    return this.tensor(x.shape, k.rmsNorm(data(x), data(weight), weight.shape[0], eps));
  }

  gated(gate: DeviceTensor, up: DeviceTensor, activation: PointwiseActivation): DeviceTensor {
    return this.tensor(gate.shape, k.gated(data(gate), data(up), activation));
  }

  concatRows(a: DeviceTensor, b: DeviceTensor): DeviceTensor {
    if (cols(a) !== cols(b)) throw new Error(`concatRows: ${cols(a)} ≠ ${cols(b)} columns`);
    const out = new Float32Array(data(a).length + data(b).length);
    out.set(data(a));
    out.set(data(b), data(a).length);
    return this.tensor([a.shape[0] + b.shape[0], cols(a)], out);
  }

  split(x: DeviceTensor, parts: readonly SplitPart[], rope?: RopeSpec): DeviceTensor[] {
    const [rows, total] = x.shape;
    let start = 0;
    return parts.map((part) => {
      if (part.rope && !rope) throw new Error('split: a part asks for RoPE but no RopeSpec was given');
      const out = k.splitColumns(data(x), rows, total, start, part.width, part.rope ? rope : undefined);
      start += part.width;
      return this.tensor([rows, part.width], out);
    });
  }

  attention(q: DeviceTensor, key: DeviceTensor, value: DeviceTensor, o: AttentionOptions): AttentionResult {
    const queryLength = q.shape[0];
    const keyLength = key.shape[0];
    const r = k.attention(
      data(q), data(key), data(value),
      { ...o, queryLength, keyLength },
      o.positionBias && data(o.positionBias),
    );
    const square = [o.numHeads, queryLength, keyLength];
    return {
      probs: this.tensor(square, r.probs),
      context: this.tensor([queryLength, o.numHeads * o.headDim], r.context),
      scores: o.keepScores ? this.tensor(square, r.scores) : undefined,
    };
  }

  valueNorms(v: DeviceTensor, o: DeviceTensor, heads: HeadLayout): DeviceTensor {
    const keyLength = v.shape[0];
    checkValueNormShapes(v, o, heads);
    return new CpuTensor([heads.numHeads, keyLength], k.valueNorms(data(v), data(o), { ...heads, keyLength, outDim: o.shape[0] }));
  }

  /** Copies, like a GPU readback: callers may transfer or keep the arrays while the model goes on. */
  async read(tensors: readonly DeviceTensor[]): Promise<Float32Array[]> {
    return tensors.map((t) => data(t).slice());
  }

  release(tensors: readonly DeviceTensor[]): void {
    for (const t of tensors) {
      if (this.released.has(t) || this.weights.has(t)) continue;
      this.released.add(t);
      this.live = { count: this.live.count - 1, bytes: this.live.bytes - data(t).byteLength };
    }
  }

  releaseWeights(weights: readonly DeviceTensor[]): void {
    for (const t of weights) this.weights.delete(t);
    this.release(weights);
  }

  liveTensors(): LiveTensors {
    return this.live;
  }

  dispose(): void {}

  private tensor(shape: readonly number[], values: Float32Array): CpuTensor {
    this.live = { count: this.live.count + 1, bytes: this.live.bytes + values.byteLength };
    return new CpuTensor(shape, values);
  }
}
