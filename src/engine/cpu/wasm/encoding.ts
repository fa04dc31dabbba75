/**
 * A minimal WebAssembly binary-format writer: one module that imports a shared memory and exports
 * functions. The kernels are written in TypeScript with the instruction helpers of `ops.ts` and turned
 * into bytes here at run time, so nothing is fetched or assembled outside the project.
 */
export type Code = readonly number[];

export const enum ValType {
  I32 = 0x7f,
  F32 = 0x7d,
  F64 = 0x7c,
  V128 = 0x7b,
}

export function unsignedLeb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value = Math.floor(value / 128);
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

export function signedLeb(value: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    const done = (value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

function utf8(name: string): number[] {
  const bytes = [...Buffer.from(name, 'utf8')];
  return [...unsignedLeb(bytes.length), ...bytes];
}

function vector(items: readonly Code[]): number[] {
  return [...unsignedLeb(items.length), ...items.flat()];
}

function section(id: number, body: Code): number[] {
  return [id, ...unsignedLeb(body.length), ...body];
}

/** One exported function: typed parameters, extra locals, and a body that leaves its result (if any). */
export class FunctionBuilder {
  private readonly localTypes: ValType[] = [];

  constructor(
    readonly name: string,
    readonly params: readonly ValType[],
    readonly result?: ValType,
  ) {}

  /** Parameter i is local i; locals follow the parameters. */
  param(index: number): number {
    return index;
  }

  local(type: ValType): number {
    this.localTypes.push(type);
    return this.params.length + this.localTypes.length - 1;
  }

  encodeType(): number[] {
    return [0x60, ...vector(this.params.map((t) => [t])), ...vector(this.result ? [[this.result]] : [])];
  }

  encodeBody(body: Code): number[] {
    const groups = this.localTypes.map((t) => [...unsignedLeb(1), t]);
    const content = [...vector(groups), ...body, 0x0b];
    return [...unsignedLeb(content.length), ...content];
  }
}

export interface ModuleFunction {
  readonly builder: FunctionBuilder;
  readonly body: Code;
}

/** Encodes a module importing `env.memory` (shared, maxPages) and exporting every function by name. */
export function encodeModule(functions: readonly ModuleFunction[], maxPages: number): Uint8Array {
  const types = functions.map((f) => f.builder.encodeType());
  const memoryImport = [...utf8('env'), ...utf8('memory'), 0x02, 0x03, ...unsignedLeb(1), ...unsignedLeb(maxPages)];
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vector(types)),
    ...section(2, vector([memoryImport])),
    ...section(3, vector(functions.map((_, i) => unsignedLeb(i)))),
    ...section(7, vector(functions.map((f, i) => [...utf8(f.builder.name), 0x00, ...unsignedLeb(i)]))),
    ...section(10, vector(functions.map((f) => f.builder.encodeBody(f.body)))),
  ];
  return Uint8Array.from(bytes);
}
