/**
 * Maximum flow by Dinic's algorithm: label the residual graph's nodes by BFS distance from the source,
 * then push a blocking flow along paths whose labels rise by one each step, and repeat until the sink
 * is out of reach. O(V²·E) in general; on a layered attention graph every path has the same length,
 * so a few phases suffice. Capacities are real numbers; a residual below EPSILON counts as saturated,
 * which keeps floating-point leftovers from starting endless phases.
 */
const EPSILON = 1e-12;

export class FlowNetwork {
  private readonly firstEdge: Int32Array;
  private readonly edgeTo: number[] = [];
  private readonly edgeNext: number[] = [];
  private readonly edgeCapacity: number[] = [];
  /** Typed copies of the edge lists, made when a flow is first asked for after edges were added. */
  private solver?: { to: Int32Array; next: Int32Array; capacity: Float64Array; residual: Float64Array };
  private readonly level: Int32Array;
  private readonly cursor: Int32Array;
  private readonly queue: Int32Array;

  constructor(readonly nodeCount: number) {
    this.firstEdge = new Int32Array(nodeCount).fill(-1);
    this.level = new Int32Array(nodeCount);
    this.cursor = new Int32Array(nodeCount);
    this.queue = new Int32Array(nodeCount);
  }

  /** A directed edge; its reverse (capacity 0) is edge index ^ 1, where pushed flow can be taken back. */
  addEdge(from: number, to: number, capacity: number): void {
    if (!(capacity >= 0)) throw new RangeError(`edge ${from} → ${to} has capacity ${capacity}`);
    for (const [a, b, c] of [[from, to, capacity], [to, from, 0]]) {
      this.edgeTo.push(b);
      this.edgeNext.push(this.firstEdge[a]);
      this.edgeCapacity.push(c);
      this.firstEdge[a] = this.edgeTo.length - 1;
    }
    this.solver = undefined;
  }

  /** The most flow that can go from source to sink; the network's capacities are unchanged afterwards. */
  maxFlow(source: number, sink: number): number {
    if (source === sink) throw new RangeError('source and sink are the same node');
    this.solver ??= {
      to: Int32Array.from(this.edgeTo), next: Int32Array.from(this.edgeNext),
      capacity: Float64Array.from(this.edgeCapacity), residual: new Float64Array(this.edgeCapacity.length),
    };
    this.solver.residual.set(this.solver.capacity);
    let total = 0;
    while (this.labelLevels(source, sink)) {
      this.cursor.set(this.firstEdge);
      for (let pushed = this.push(source, sink, Infinity); pushed > 0; pushed = this.push(source, sink, Infinity)) total += pushed;
    }
    return total;
  }

  /** BFS over edges with residual capacity; true when the sink is reachable. */
  private labelLevels(source: number, sink: number): boolean {
    const { to, next, residual } = this.solver!;
    this.level.fill(-1);
    this.level[source] = 0;
    this.queue[0] = source;
    for (let head = 0, tail = 1; head < tail; head++) {
      const node = this.queue[head];
      for (let e = this.firstEdge[node]; e !== -1; e = next[e]) {
        if (residual[e] > EPSILON && this.level[to[e]] < 0) {
          this.level[to[e]] = this.level[node] + 1;
          this.queue[tail++] = to[e];
        }
      }
    }
    return this.level[sink] >= 0;
  }

  /** One augmenting path along rising levels, at most `limit`; the cursor skips edges already exhausted. */
  private push(node: number, sink: number, limit: number): number {
    if (node === sink) return limit;
    const { to, next, residual } = this.solver!;
    for (; this.cursor[node] !== -1; this.cursor[node] = next[this.cursor[node]]) {
      const e = this.cursor[node];
      if (residual[e] <= EPSILON || this.level[to[e]] !== this.level[node] + 1) continue;
      const pushed = this.push(to[e], sink, Math.min(limit, residual[e]));
      if (pushed > 0) {
        residual[e] -= pushed;
        residual[e ^ 1] += pushed;
        return pushed;
      }
    }
    return 0;
  }
}
