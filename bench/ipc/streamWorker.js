/**
 * A stand-in engine for bench/ipc/transportBench.js: answers an `inspect` request by streaming
 * `layers` attention events of [heads, T, T] probabilities through the real engine port (frames in its
 * own process, transfers in a thread), in the real message format, so the real EngineClient receives
 * them. The probabilities are written once (touched memory), then sent as fresh copies, as a model's are.
 */
const { openWorkerPort } = require('../../out/src/engine/worker/workerPort');
const { eventBuffers } = require('../../out/src/engine/worker/messages');

const port = openWorkerPort();
const info = { name: 'stream', modelType: 'gpt2', kind: 'decoder-only', numLayers: 0, numHeads: 0, numKvHeads: 0, headDim: 64, hiddenSize: 768, vocabSize: 1, maxPositions: 1 << 20, causal: true, crossAttention: false, eosTokenIds: [], untrained: true };
const tokens = { ids: [], tokens: [], offsetsUtf16: [], special: [] };
const backend = { used: 'cpu', adapter: 'stream', fallbackReason: null };

port.onMessage((message) => {
  if (message.type === 'shutdown') {
    port.post({ type: 'closed' });
    return port.close();
  }
  if (message.type !== 'inspect') return;
  const { runId, request } = message;
  const { layers, heads, length, half } = request.input;
  const started = { model: { ...info, numLayers: layers, numHeads: heads, numKvHeads: heads }, source: tokens, backend };
  port.post({ type: 'started', runId, started });
  const template = half ? new Uint16Array(heads * length * length).fill(0x3c00) : new Float32Array(heads * length * length).fill(1 / length);
  let layer = 0;
  const next = () => {
    if (layer === layers) return port.post({ type: 'done', runId, result: { ...started, timings: { tokenizeMs: 0, firstLayerMs: 0, forwardMs: 0 } } });
    const copy = template.slice();
    const event = { type: 'attention', stack: 'self', layer: layer++, numHeads: heads, numKvHeads: heads, headDim: 64, queryLength: length, keyLength: length, probs: half ? new Float32Array(0) : copy, probsF16: half ? copy : undefined };
    port.post({ type: 'event', runId, event }, eventBuffers(event));
    setImmediate(next);
  };
  next();
});
