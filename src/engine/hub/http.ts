/**
 * The few Hub HTTP calls a download needs, on Node's built-in fetch:
 *   GET  {endpoint}/api/models/{repo}/revision/{rev}   the commit and the file list
 *   HEAD {endpoint}/{repo}/resolve/{commit}/{file}     etag, size and where the bytes are
 *   GET  <that location> with Range                    the bytes, resumable
 * Redirects are followed by hand: the Hub's own headers (X-Linked-Etag, X-Linked-Size) sit on its 302
 * to the CDN, not on the CDN's answer, and the token must not travel to another origin.
 */
import { EngineError } from '../errors';

export interface RemoteFile {
  readonly name: string;
  /** sha256 for LFS files, git sha1 for small ones: the blob's name in the cache. */
  readonly etag: string;
  readonly size: number;
  /** Where to GET the bytes: the CDN for LFS files, the resolve URL otherwise. */
  readonly url: string;
}

export interface RepoRevision {
  readonly commit: string;
  readonly files: readonly string[];
}

const MAX_REDIRECTS = 10;

/** Strips the weak marker and quotes: W/"abc" -> abc (as huggingface_hub does). */
function normalizeEtag(etag: string | null): string | undefined {
  return etag?.replace(/^W\//, '').replace(/^"|"$/g, '') || undefined;
}

export function isAbortError(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError');
}

export function cancelledError(): EngineError {
  return new EngineError('CANCELLED', 'The download was cancelled. The part already downloaded is kept: downloading again resumes it.');
}

export class HubHttp {
  constructor(
    readonly endpoint: string,
    private readonly token: string | undefined,
    private readonly signal: AbortSignal | undefined,
  ) {}

  async repoRevision(repoId: string, revision: string): Promise<RepoRevision> {
    const url = `${this.endpoint}/api/models/${repoId}/revision/${encodeURIComponent(revision)}`;
    const response = await this.request(url, 'GET', {}, 'same-origin');
    if (!response.ok) throw await this.statusError(response, `${repoId} (revision ${revision})`);
    let body: { sha?: unknown; siblings?: { rfilename?: unknown }[] };
    try {
      body = (await response.json()) as typeof body;
    } catch (err) {
      throw new EngineError('DOWNLOAD_FAILED', `${url} did not answer with JSON (${(err as Error).message}). Is HF_ENDPOINT (${this.endpoint}) a Hugging Face Hub?`);
    }
    if (typeof body.sha !== 'string' || !Array.isArray(body.siblings)) {
      throw new EngineError('DOWNLOAD_FAILED', `${url} has no "sha" and "siblings": is HF_ENDPOINT (${this.endpoint}) a Hugging Face Hub?`);
    }
    const files = body.siblings.map((s) => s.rfilename).filter((f): f is string => typeof f === 'string');
    return { commit: body.sha, files };
  }

  /** HEAD without following the redirect to the CDN, whose answer lacks the Hub's X-Linked-* headers. */
  async fileInfo(repoId: string, commit: string, name: string): Promise<RemoteFile> {
    const url = `${this.endpoint}/${repoId}/resolve/${commit}/${name.split('/').map(encodeURIComponent).join('/')}`;
    const response = await this.request(url, 'HEAD', { 'Accept-Encoding': 'identity' }, 'same-origin');
    const redirected = response.status >= 300 && response.status < 400;
    if (!response.ok && !redirected) throw await this.statusError(response, `${repoId}/${name}`);
    const headers = response.headers;
    const etag = normalizeEtag(headers.get('x-linked-etag') ?? headers.get('etag'));
    const size = Number(headers.get('x-linked-size') ?? headers.get('content-length') ?? NaN);
    if (!etag || !Number.isSafeInteger(size) || size < 0) {
      throw new EngineError('DOWNLOAD_FAILED', `${url} sent no ETag or size, so the download could not be checked. Is HF_ENDPOINT (${this.endpoint}) a Hugging Face Hub?`);
    }
    const location = headers.get('location');
    return { name, etag, size, url: redirected && location ? new URL(location, response.url || url).href : url };
  }

  /** GET from `offset` on; the caller checks whether the server honoured the Range (206) or not (200). */
  async openBytes(file: RemoteFile, offset: number): Promise<Response> {
    const response = await this.request(file.url, 'GET', { 'Accept-Encoding': 'identity', ...(offset > 0 && { Range: `bytes=${offset}-` }) }, 'any');
    if (!response.ok && response.status !== 416) throw await this.statusError(response, file.name);
    return response;
  }

  /**
   * fetch with redirects followed by hand: 'same-origin' stops at the first redirect to another host
   * (the Hub's 302 to its CDN, which carries the metadata); 'any' follows it. The token goes to the
   * endpoint's origin only.
   */
  private async request(url: string, method: 'GET' | 'HEAD', headers: Record<string, string>, follow: 'same-origin' | 'any'): Promise<Response> {
    const origin = new URL(this.endpoint).origin;
    let current = url;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const sameOrigin = new URL(current).origin === origin;
      let response: Response;
      try {
        response = await fetch(current, {
          method,
          redirect: 'manual',
          signal: this.signal,
          headers: { ...headers, ...(this.token && sameOrigin && { Authorization: `Bearer ${this.token}` }) },
        });
      } catch (err) {
        if (isAbortError(err)) throw cancelledError();
        const cause = (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message;
        throw new EngineError('DOWNLOAD_FAILED', `Cannot reach ${new URL(current).origin} (${cause}). Check the network connection, a proxy, or HF_ENDPOINT.`);
      }
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location) return response;
      const next = new URL(location, current).href;
      if (follow === 'same-origin' && new URL(next).origin !== origin) return response;
      await response.body?.cancel();
      current = next;
    }
    throw new EngineError('DOWNLOAD_FAILED', `${url} redirected more than ${MAX_REDIRECTS} times.`);
  }

  private async statusError(response: Response, what: string): Promise<EngineError> {
    await response.body?.cancel();
    const code = response.headers.get('x-error-code');
    if (response.status === 401 || response.status === 403) {
      return new EngineError('DOWNLOAD_FAILED', `${this.endpoint} refused access to ${what} (HTTP ${response.status}${code ? `, ${code}` : ''}). If the model is gated or private, accept its terms on its Hub page and set HF_TOKEN to an access token; otherwise check the id.`);
    }
    if (response.status === 404) {
      return new EngineError('DOWNLOAD_FAILED', `${what} was not found on ${this.endpoint}${code ? ` (${code})` : ''}. Check the model id and revision.`);
    }
    return new EngineError('DOWNLOAD_FAILED', `${this.endpoint} answered HTTP ${response.status} for ${what}. Try again later.`);
  }
}
