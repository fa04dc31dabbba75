/** The reference kernels, one op per file: `import * as reference from '…/cpu/reference'`. */
export * from './activation';
export * from './attention';
export * from './elementwise';
export * from './gather';
export * from './half';
export * from './linear';
export * from './norm';
export * from './split';
export * from './valueNorms';
