/** The benchmark's token ids, the same on both sides: T spread-out ids below the vocabulary size. */
exports.benchIds = (tokens, vocabSize) => Array.from({ length: tokens }, (_, i) => (i * 7919 + 13) % vocabSize);
