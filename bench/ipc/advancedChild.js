/** bench/ipc/transportBench.js's comparison: the same layers as Node `serialization: 'advanced'` IPC messages. */
process.on('message', ({ shape }) => {
  const { layers, heads, length, half } = shape;
  const template = half ? new Uint16Array(heads * length * length).fill(0x3c00) : new Float32Array(heads * length * length).fill(1 / length);
  let layer = 0;
  const next = () => {
    if (layer++ === layers) return process.send({ type: 'end' });
    process.send({ type: 'layer', probs: template.slice() }, () => setImmediate(next));
  };
  next();
});
