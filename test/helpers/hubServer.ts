/**
 * A stand-in for the Hugging Face Hub on 127.0.0.1, serving model folders with the Hub's URL layout
 * and headers, so the download code is tested against a real HTTP server:
 *   GET  /api/models/<org>/<name>/revision/<rev>   {sha, siblings: [{rfilename}]}
 *   HEAD|GET /<org>/<name>/resolve/<rev>/<file>     small files: 200 + ETag (git sha1)
 *                                                    *.safetensors: 302 to the "CDN" (a second server,
 *                                                    another origin) + X-Linked-Etag (sha256), X-Linked-Size
 *   HEAD|GET <cdn>/<org>/<name>/<sha256>/<file>      the bytes, with Range support
 * Faults (a cut connection, a stall, wrong bytes, Range ignored, a gated repo) are switched per test.
 * Both servers are unref'd and every wait is bounded, so a forgotten close never hangs mocha.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as path from 'path';

export interface HubFaults {
  /** Close the connection after this many body bytes of the next GET of `file` (once). */
  cut?: { file: string; afterBytes: number };
  /** Send this many body bytes of `file`, then hold the connection until the client leaves. */
  stall?: { file: string; afterBytes: number };
  /** Serve this file with every byte flipped (same length) while the headers keep its true hash. */
  corrupt?: string;
  /** Answer Range requests with 200 and the whole file, as some servers do. */
  ignoreRange?: boolean;
  /** Refuse the Hub's routes without `Authorization: Bearer <token>`, like a gated repo. */
  token?: string;
}

export interface LoggedRequest {
  readonly server: 'hub' | 'cdn';
  readonly method: string;
  readonly path: string;
  readonly range?: string;
  readonly authorization?: string;
}

const LFS_FILE = /\.safetensors$/;
const STALL_LIMIT_MS = 10_000;

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function gitBlobSha1(bytes: Buffer): string {
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export class HubTestServer {
  readonly requests: LoggedRequest[] = [];
  faults: HubFaults = {};
  private readonly hub = http.createServer((req, res) => this.serveHub(req, res));
  private readonly cdn = http.createServer((req, res) => this.serveCdn(req, res));
  private readonly repos = new Map<string, string>();
  endpoint = '';
  private cdnOrigin = '';

  /** `repos` maps "org/name" to the folder whose files it serves. */
  static async start(repos: Record<string, string>): Promise<HubTestServer> {
    const server = new HubTestServer();
    for (const [repoId, folder] of Object.entries(repos)) server.repos.set(repoId, folder);
    server.endpoint = await listen(server.hub);
    server.cdnOrigin = await listen(server.cdn);
    return server;
  }

  /** A fixed fake commit per repository: sha1 of its id and file list. */
  commitOf(repoId: string): string {
    return createHash('sha1').update(repoId).update(this.files(repoId).join('\n')).digest('hex');
  }

  sha256Of(repoId: string, file: string): string {
    return sha256(fs.readFileSync(path.join(this.repos.get(repoId)!, file)));
  }

  requestsFor(file: string, server?: 'hub' | 'cdn'): LoggedRequest[] {
    return this.requests.filter((r) => r.path.endsWith(`/${file}`) && (!server || r.server === server));
  }

  async close(): Promise<void> {
    for (const server of [this.hub, this.cdn]) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  private files(repoId: string): string[] {
    return fs.readdirSync(this.repos.get(repoId)!).sort();
  }

  private log(server: LoggedRequest['server'], req: http.IncomingMessage): void {
    this.requests.push({ server, method: req.method ?? '', path: decodeURIComponent((req.url ?? '').split('?')[0]), range: req.headers.range, authorization: req.headers.authorization });
  }

  private serveHub(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.log('hub', req);
    if (this.faults.token && req.headers.authorization !== `Bearer ${this.faults.token}`) {
      res.writeHead(401, { 'X-Error-Code': 'GatedRepo' }).end('Access to this model is restricted.');
      return;
    }
    const url = decodeURIComponent((req.url ?? '').split('?')[0]);
    const api = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/(.+)$/.exec(url);
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url);
    const repoId = api?.[1] ?? resolve?.[1];
    if (!repoId || !this.repos.has(repoId)) {
      res.writeHead(404, { 'X-Error-Code': 'RepoNotFound' }).end('Repository not found');
      return;
    }
    const revision = (api ?? resolve)![2];
    if (revision !== 'main' && revision !== this.commitOf(repoId)) {
      res.writeHead(404, { 'X-Error-Code': 'RevisionNotFound' }).end('Invalid rev id');
      return;
    }
    if (api) {
      const body = JSON.stringify({ id: repoId, sha: this.commitOf(repoId), siblings: this.files(repoId).map((rfilename) => ({ rfilename })) });
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(body);
      return;
    }
    const file = resolve![3];
    if (!this.files(repoId).includes(file)) {
      res.writeHead(404, { 'X-Error-Code': 'EntryNotFound' }).end('Entry not found');
      return;
    }
    const bytes = fs.readFileSync(path.join(this.repos.get(repoId)!, file));
    const commitHeader = { 'X-Repo-Commit': this.commitOf(repoId) };
    if (LFS_FILE.test(file)) {
      const hash = sha256(bytes);
      res.writeHead(302, {
        ...commitHeader, Location: `${this.cdnOrigin}/${repoId}/${hash}/${file}`,
        'X-Linked-Etag': `"${hash}"`, 'X-Linked-Size': String(bytes.length), ETag: `"${gitBlobSha1(Buffer.from(hash))}"`,
      }).end();
      return;
    }
    this.sendBytes(req, res, file, bytes, { ...commitHeader, ETag: `"${gitBlobSha1(bytes)}"` });
  }

  private serveCdn(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.log('cdn', req);
    const match = /^\/([^/]+\/[^/]+)\/([0-9a-f]{64})\/(.+)$/.exec(decodeURIComponent((req.url ?? '').split('?')[0]));
    const folder = match && this.repos.get(match[1]);
    const file = match?.[3] ?? '';
    const bytes = folder && fs.existsSync(path.join(folder, file)) ? fs.readFileSync(path.join(folder, file)) : undefined;
    if (!bytes || sha256(bytes) !== match![2]) {
      res.writeHead(404).end('No such object');
      return;
    }
    this.sendBytes(req, res, file, bytes, { ETag: `"${match![2]}"` });
  }

  private sendBytes(req: http.IncomingMessage, res: http.ServerResponse, file: string, original: Buffer, headers: Record<string, string>): void {
    const bytes = this.faults.corrupt === file ? original.map((b) => b ^ 0xff) : original;
    const range = this.faults.ignoreRange ? null : /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    if (start >= bytes.length && range) {
      res.writeHead(416, { 'Content-Range': `bytes */${bytes.length}` }).end();
      return;
    }
    const body = bytes.subarray(start);
    res.writeHead(range ? 206 : 200, {
      ...headers, 'Accept-Ranges': 'bytes', 'Content-Type': 'application/octet-stream', 'Content-Length': String(body.length),
      ...(range && { 'Content-Range': `bytes ${start}-${bytes.length - 1}/${bytes.length}` }),
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const { cut, stall } = this.faults;
    if (cut?.file === file) {
      this.faults.cut = undefined; // once: the resumed request must succeed
      res.write(body.subarray(0, cut.afterBytes), () => res.socket?.destroy());
    } else if (stall?.file === file) {
      res.write(body.subarray(0, stall.afterBytes));
      const timer = setTimeout(() => res.socket?.destroy(), STALL_LIMIT_MS).unref();
      res.on('close', () => clearTimeout(timer));
    } else {
      res.end(body);
    }
  }
}
