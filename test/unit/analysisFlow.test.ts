/** Max-flow on graphs with known answers and against brute-force minimum cuts; attention flow in closed form. */
import * as assert from 'assert';
import { attentionFlow, encoderDecoderFlow } from '../../src/engine/analysis/attentionFlow';
import { FlowNetwork } from '../../src/engine/analysis/maxFlow';
import type { StackLayout } from '../../src/engine/analysis/probabilities';
import { crossMix, residualMix } from '../../src/engine/analysis/rollout';
import { seededUniform } from '../../src/engine/demo/demoWeights';
import { assertNumbersClose, layerFromRows } from './analysisTestData';

const causal: StackLayout = { relation: 'self', causal: true };
const bidirectional: StackLayout = { relation: 'self', causal: false };

function network(nodes: number, edges: readonly [number, number, number][]): FlowNetwork {
  const net = new FlowNetwork(nodes);
  for (const [from, to, capacity] of edges) net.addEdge(from, to, capacity);
  return net;
}

/** The minimum s–t cut by trying every set of nodes on the source side: equal to the max flow. */
function bruteForceMinCut(nodes: number, edges: readonly [number, number, number][], source: number, sink: number): number {
  let best = Infinity;
  for (let mask = 0; mask < 1 << nodes; mask++) {
    const sourceSide = (v: number) => ((mask >> v) & 1) === 1;
    if (!sourceSide(source) || sourceSide(sink)) continue;
    best = Math.min(best, edges.reduce((cut, [u, v, c]) => cut + (sourceSide(u) && !sourceSide(v) ? c : 0), 0));
  }
  return best;
}

describe('analysis: maximum flow (Dinic)', () => {
  it('the textbook network (CLRS figure 26.1) carries 23', () => {
    const net = network(6, [[0, 1, 16], [0, 2, 13], [2, 1, 4], [1, 3, 12], [3, 2, 9], [2, 4, 14], [4, 3, 7], [3, 5, 20], [4, 5, 4]]);
    assert.strictEqual(net.maxFlow(0, 5), 23);
    assert.strictEqual(net.maxFlow(0, 5), 23, 'a second call starts from the full capacities again');
  });

  it('undoes a blocking path through the reverse edge, whichever path is tried first', () => {
    // s=0 a=1 b=2 c=3 d=4 t=5: taking s→a→c→t first blocks s→b→c→t until a's flow moves to a→d→t.
    const edges: [number, number, number][] = [[0, 1, 1], [0, 2, 1], [1, 3, 1], [1, 4, 1], [2, 3, 1], [3, 5, 1], [4, 5, 1]];
    assert.strictEqual(network(6, edges).maxFlow(0, 5), 2);
    assert.strictEqual(network(6, [...edges].reverse()).maxFlow(0, 5), 2);
  });

  it('real capacities, parallel paths, unreachable sinks, bad arguments', () => {
    assertNumbersClose([network(4, [[0, 1, 0.3], [1, 3, 0.5], [0, 2, 0.25], [2, 3, 0.1]]).maxFlow(0, 3)], [0.4], 'two paths');
    assert.strictEqual(network(3, [[0, 1, 1], [2, 1, 1]]).maxFlow(0, 2), 0);
    assert.throws(() => network(2, []).maxFlow(1, 1), /same node/);
    assert.throws(() => network(2, [[0, 1, -1]]), /capacity -1/);
  });

  it('equals the brute-force minimum cut on random graphs', () => {
    const uniform = seededUniform(17);
    for (let trial = 0; trial < 100; trial++) {
      const nodes = 3 + (trial % 6);
      const edges: [number, number, number][] = [];
      for (let u = 0; u < nodes; u++) for (let v = 0; v < nodes; v++) if (u !== v && uniform() < 0.45) edges.push([u, v, uniform() < 0.2 ? 0 : uniform()]);
      const expected = bruteForceMinCut(nodes, edges, 0, nodes - 1);
      assertNumbersClose([network(nodes, edges).maxFlow(0, nodes - 1)], [expected], `trial ${trial}: ${nodes} nodes, ${edges.length} edges`);
    }
  });
});

describe('analysis: attention flow', () => {
  const mixes = [
    residualMix(layerFromRows([[[1, 0, 0], [1 / 2, 1 / 2, 0], [1 / 3, 1 / 3, 1 / 3]]]), causal), // Â₁ = [1 0 0; ¼ ¾ 0; ⅙ ⅙ ⅔]
    residualMix(layerFromRows([[[1, 0, 0], [1, 0, 0], [0, 1, 0]], [[1, 0, 0], [0, 1, 0], [0, 0, 1]]]), causal), // Â₂ = [1 0 0; ¼ ¾ 0; 0 ¼ ¾]
  ];

  it('closed form on 3 tokens: each path limited by its narrowest edge', () => {
    // Into top position 2: token 0 via (1,1) min(¼, ¼) and via (1,2) min(⅙, ¾); token 1 likewise; token 2 via (1,2) min(⅔, ¾).
    assertNumbersClose(attentionFlow(mixes, 2), [5 / 12, 5 / 12, 2 / 3], 'into 2', 1e-7);
    assertNumbersClose(attentionFlow(mixes, 0), [1, 0, 0], 'into 0', 1e-7);
    assert.throws(() => attentionFlow(mixes, 3), /outside 0…2/);
  });

  it('encoder-decoder: source tokens reach the decoder through cross-attention, decoder tokens through self-attention', () => {
    const encoder = [residualMix(layerFromRows([[[0.5, 0.5], [0.5, 0.5]]]), bidirectional)]; // [¾ ¼; ¼ ¾]
    const decoder = [residualMix(layerFromRows([[[1, 0], [1, 0]]]), causal)]; // [1 0; ½ ½]
    const cross = [crossMix(layerFromRows([[[1, 0], [0, 1]]]))];
    const flow = encoderDecoderFlow(encoder, decoder, cross, 1);
    assertNumbersClose(flow.fromSource, [1 / 4, 1 / 2], 'from source tokens', 1e-7);
    assertNumbersClose(flow.fromTarget, [1 / 2, 1 / 2], 'from decoder tokens', 1e-7);
    assert.throws(() => encoderDecoderFlow(encoder, decoder, [], 1), /1 decoder layers but 0 cross-attention/);
  });
});
