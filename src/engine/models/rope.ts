/**
 * RoPE inverse frequencies as transformers computes them (float32 arithmetic), per rope type. With
 * partial rotary the frequencies span the rotating dims only: theta^(-2i / rotaryDims).
 */
import type { RopeSettings } from '../loader/config';

export function ropeInverseFrequencies(rope: RopeSettings): Float32Array {
  const f = Math.fround;
  const dims = rope.rotaryDims;
  const invFreq = new Float32Array(dims / 2);
  for (let i = 0; i < dims / 2; i++) invFreq[i] = f(1 / f(Math.pow(rope.theta, f((2 * i) / dims))));
  if (rope.type === 'linear') return invFreq.map((x) => x / rope.factor);
  if (rope.type === 'llama3') return llama3Scaling(invFreq, rope);
  return invFreq;
}

/** Llama 3.1's frequency-dependent scaling: long wavelengths slowed by `factor`, a smooth ramp between. */
function llama3Scaling(invFreq: Float32Array, rope: RopeSettings): Float32Array {
  const lowFreqWavelength = rope.originalMaxPositions / rope.lowFreqFactor;
  const highFreqWavelength = rope.originalMaxPositions / rope.highFreqFactor;
  return invFreq.map((freq) => {
    const wavelength = (2 * Math.PI) / freq;
    if (wavelength < highFreqWavelength) return freq;
    if (wavelength > lowFreqWavelength) return freq / rope.factor;
    const smooth = (rope.originalMaxPositions / wavelength - rope.lowFreqFactor) / (rope.highFreqFactor - rope.lowFreqFactor);
    return (1 - smooth) * (freq / rope.factor) + smooth * freq;
  });
}
