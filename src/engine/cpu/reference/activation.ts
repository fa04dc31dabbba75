/**
 * The pointwise activations: ReLU, SiLU, exact-erf GELU and tanh GELU.
 * A reference kernel: the plain, readable definition every backend is tested against (sums in float64).
 */
import type { PointwiseActivation } from '../../backend';

export function activate(x: number, activation: PointwiseActivation): number {
  switch (activation) {
    case 'none':
      return x;
    case 'relu':
      return x > 0 ? x : 0;
    case 'silu':
      return x / (1 + Math.exp(-x));
    case 'gelu_erf':
      return 0.5 * x * (1 + erf(x / Math.SQRT2));
    case 'gelu_tanh':
      return 0.5 * x * (1 + Math.tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
  }
}

/**
 * erf with absolute error below 1.2e-7 everywhere (Chebyshev fit of erfc, Numerical Recipes §6.2).
 * JavaScript has no Math.erf; the WGSL kernel uses the same formula so both backends agree.
 */
export function erf(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const poly = -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const erfc = t * Math.exp(poly);
  return x >= 0 ? 1 - erfc : erfc - 1;
}
