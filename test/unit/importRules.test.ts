/**
 * The house rules, read from the code itself with TypeScript's parser: each room imports only the
 * rooms below it (README, "Layout"), `vscode` only on the host side, no Node modules where the code
 * runs in a browser, and no import circles — between files, or between the folders of one room.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';
import { REPO_ROOT } from '../helpers/repo';

const repoRoot = REPO_ROOT;

interface Room {
  readonly name: string;
  /** A folder (ending in /) or a file, relative to the repository root. */
  readonly at: string;
  /** Rooms whose files this room may import. */
  readonly mayImport: readonly string[];
  /** External modules allowed: 'node' (builtins and npm packages) and/or 'vscode'. */
  readonly external: readonly ('node' | 'vscode')[];
}

/** Lowest first. The order is the architecture: a room may import only rooms listed before it. */
export const ROOMS: readonly Room[] = [
  { name: 'protocol', at: 'src/protocol/', mayImport: [], external: [] },
  { name: 'engine', at: 'src/engine/', mayImport: ['protocol'], external: ['node'] },
  { name: 'view-model', at: 'src/view-model/', mayImport: ['protocol'], external: [] },
  { name: 'store', at: 'src/store/', mayImport: ['protocol', 'engine', 'view-model'], external: ['node'] },
  { name: 'report', at: 'src/report/', mayImport: ['protocol', 'view-model', 'store'], external: ['node'] },
  { name: 'host', at: 'src/host/', mayImport: ['protocol', 'engine', 'view-model', 'store', 'report'], external: ['node', 'vscode'] },
  { name: 'cli', at: 'src/cli/', mayImport: ['protocol', 'engine', 'view-model', 'store', 'report'], external: ['node'] },
  { name: 'extension', at: 'src/extension.ts', mayImport: ['engine', 'host'], external: ['vscode'] },
  { name: 'webview', at: 'webview/', mayImport: ['protocol', 'view-model'], external: [] },
];

export interface ImportEdge {
  readonly from: string;
  /** A repository-relative file, or the bare module name of an external import. */
  readonly to: string;
  readonly external: boolean;
}

function roomOf(file: string): Room | undefined {
  return ROOMS.find((r) => (r.at.endsWith('/') ? file.startsWith(r.at) : file === r.at));
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(path.join(repoRoot, dir), { withFileTypes: true })) {
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory()) out.push(...sourceFiles(rel));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(rel);
  }
  return out;
}

function resolveRelative(from: string, specifier: string): string {
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
  for (const candidate of [`${base}.ts`, `${base}/index.ts`, base]) {
    if (fs.existsSync(path.join(repoRoot, candidate)) && fs.statSync(path.join(repoRoot, candidate)).isFile()) return candidate;
  }
  throw new Error(`${from}: cannot resolve import "${specifier}"`);
}

/** Every import, export-from, dynamic import() and require() of the given files (type-only ones too). */
export function importEdges(files: readonly string[]): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const from of files) {
    const text = fs.readFileSync(path.join(repoRoot, from), 'utf8');
    for (const ref of ts.preProcessFile(text, true, true).importedFiles) {
      const specifier = ref.fileName;
      const external = !specifier.startsWith('.');
      edges.push({ from, to: external ? specifier : resolveRelative(from, specifier), external });
    }
  }
  return edges;
}

/** What the rules forbid in a set of edges, one sentence each. */
export function violations(edges: readonly ImportEdge[]): string[] {
  const out: string[] = [];
  for (const edge of edges) {
    const room = roomOf(edge.from);
    if (!room) continue;
    if (edge.external) {
      const kind = edge.to === 'vscode' ? 'vscode' : 'node';
      if (!room.external.includes(kind)) out.push(`${edge.from} imports "${edge.to}", which ${room.name} may not use`);
      continue;
    }
    const target = roomOf(edge.to);
    if (!target || target === room) continue;
    if (!room.mayImport.includes(target.name)) out.push(`${edge.from} (${room.name}) imports ${edge.to} (${target.name})`);
  }
  return out;
}

/** Strongly connected groups of more than one node (Tarjan), each as a list of nodes. */
export function circles(graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  let next = 0;
  const visit = (node: string): void => {
    index.set(node, next);
    low.set(node, next++);
    stack.push(node);
    onStack.add(node);
    for (const to of graph.get(node) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node)!, low.get(to)!));
      } else if (onStack.has(to)) {
        low.set(node, Math.min(low.get(node)!, index.get(to)!));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const group: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      group.push(member);
    } while (member !== node);
    if (group.length > 1) groups.push(group.sort());
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return groups;
}

function graphOf(edges: readonly ImportEdge[], node: (file: string) => string): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const edge of edges) {
    if (edge.external) continue;
    const [from, to] = [node(edge.from), node(edge.to)];
    if (from === to) continue;
    if (!graph.has(from)) graph.set(from, new Set());
    graph.get(from)!.add(to);
  }
  return graph;
}

describe('Import rules: rooms, circles, external modules', () => {
  const files = [...sourceFiles('src'), ...sourceFiles('webview')];
  const edges = importEdges(files);

  it(`every one of ${files.length} files belongs to a room`, () => {
    assert.deepStrictEqual(files.filter((f) => !roomOf(f)), []);
  });

  it('each room imports only the rooms below it, and only the external modules it may use', () => {
    assert.deepStrictEqual(violations(edges), []);
  });

  it('no import circle between files', () => {
    assert.deepStrictEqual(circles(graphOf(edges, (f) => f)), []);
  });

  it('no import circle between the sub-rooms (folders) of a room', () => {
    // A room's top-level files stand for themselves; a file in a sub-folder stands for its sub-folder.
    const subRoom = (f: string) => (ROOMS.some((r) => r.at === `${path.posix.dirname(f)}/`) ? f : path.posix.dirname(f));
    assert.deepStrictEqual(circles(graphOf(edges, subRoom)), []);
  });

  it('the checks catch what they are for: a forbidden edge, an engine that imports vscode, a circle', () => {
    const planted: ImportEdge[] = [
      { from: 'src/engine/model.ts', to: 'src/host/settings.ts', external: false },
      { from: 'src/engine/model.ts', to: 'vscode', external: true },
      { from: 'src/protocol/messages.ts', to: 'src/engine/model.ts', external: false },
      { from: 'webview/app.ts', to: 'src/host/notify.ts', external: false },
      { from: 'webview/app.ts', to: 'fs', external: true },
    ];
    assert.strictEqual(violations(planted).length, planted.length, violations(planted).join('\n'));
    const circle = graphOf([
      { from: 'a.ts', to: 'b.ts', external: false }, { from: 'b.ts', to: 'c.ts', external: false }, { from: 'c.ts', to: 'a.ts', external: false },
    ], (f) => f);
    assert.deepStrictEqual(circles(circle), [['a.ts', 'b.ts', 'c.ts']]);
  });
});
