/**
 * IEEE 754 float16 bits of float32 values (compact probabilities): the spec of the WebAssembly and
 * WebGPU to_half kernels. The conversion itself lives with the protocol, which every room shares.
 */
export { toFloat16Bits } from '../../../protocol/float16';
