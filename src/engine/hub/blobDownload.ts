/**
 * Downloads one file into blobs/<etag>: into <etag>.incomplete first (the name huggingface_hub uses,
 * so either tool resumes the other's partial file), resumed with a Range request, then checked
 * against the Hub's size and hash before it is renamed into place. A file that fails the check is
 * deleted, never left where a loader would find it.
 */
import { createHash, Hash } from 'crypto';
import * as fs from 'fs';
import { EngineError } from '../errors';
import { cancelledError, HubHttp, isAbortError, RemoteFile } from './http';

/** Tries per file; another try is made only after one that moved forward, so a dead server fails fast. */
const MAX_ATTEMPTS = 5;

/**
 * The digest the etag is: sha256 of the content for LFS files, git's blob sha1 ("blob <size>\0" +
 * content) for small files. Other etags (some mirrors) can only be checked by size.
 */
function startDigest(file: RemoteFile): { hash: Hash; algorithm: string } | undefined {
  if (/^[0-9a-f]{64}$/.test(file.etag)) return { hash: createHash('sha256'), algorithm: 'sha256' };
  if (/^[0-9a-f]{40}$/.test(file.etag)) return { hash: createHash('sha1').update(`blob ${file.size}\0`), algorithm: 'git sha1' };
  return undefined;
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

/** The start offset a 206 answer covers, from "Content-Range: bytes <start>-<end>/<total>". */
function rangeStart(response: Response): number | undefined {
  const match = /^bytes (\d+)-/.exec(response.headers.get('content-range') ?? '');
  return match ? Number(match[1]) : undefined;
}

async function hashExisting(file: string, digest: Hash): Promise<void> {
  for await (const chunk of fs.createReadStream(file)) digest.update(chunk as Buffer);
}

/** Streams the body to the end of `partial`; returns the bytes written even when the stream breaks. */
async function appendBody(
  response: Response, partial: string, start: number, digest: Hash | undefined,
  onBytes: (fileBytes: number) => void, signal: AbortSignal | undefined,
): Promise<{ written: number; error?: unknown }> {
  const out = await fs.promises.open(partial, start === 0 ? 'w' : 'a');
  let written = 0;
  try {
    if (!response.body) return { written };
    for await (const chunk of response.body) {
      if (signal?.aborted) return { written, error: signal.reason ?? new DOMException('aborted', 'AbortError') };
      await out.write(chunk);
      digest?.update(chunk);
      written += chunk.byteLength;
      onBytes(start + written);
    }
    return { written };
  } catch (error) {
    return { written, error };
  } finally {
    await out.close();
  }
}

export async function downloadBlob(
  http: HubHttp, file: RemoteFile, blob: string, label: string,
  onBytes: (fileBytes: number) => void, signal: AbortSignal | undefined,
): Promise<void> {
  const partial = `${blob}.incomplete`;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    let offset = fileSize(partial);
    if (offset >= file.size) {
      fs.rmSync(partial, { force: true }); // complete or overlong but never verified: start again
      offset = 0;
    }
    const response = await http.openBytes(file, offset);
    if (response.status === 416) {
      await response.body?.cancel();
      fs.rmSync(partial, { force: true });
      continue;
    }
    // A server that ignores Range answers 200 with the whole file: start over rather than append.
    const start = response.status === 206 ? rangeStart(response) : 0;
    if (start === undefined || (start !== 0 && start !== offset)) {
      await response.body?.cancel();
      throw new EngineError('DOWNLOAD_FAILED', `${label}: asked for bytes from ${offset}, the server answered ${response.headers.get('content-range') ?? 'a partial response without Content-Range'}.`);
    }
    const digest = startDigest(file);
    if (start > 0 && digest) await hashExisting(partial, digest.hash);
    const { written, error } = await appendBody(response, partial, start, digest?.hash, onBytes, signal);
    if (signal?.aborted || isAbortError(error)) throw cancelledError();
    const have = start + written;
    if (have < file.size) {
      if (written > 0 && attempt < MAX_ATTEMPTS) continue; // the connection broke mid-file: resume
      const reason = error instanceof Error ? ((error as Error & { cause?: Error }).cause?.message ?? error.message) : 'the server closed the connection';
      throw new EngineError('DOWNLOAD_FAILED', `${label}: the download stopped at ${have} of ${file.size} bytes (${reason}). Run the download again to resume it.`);
    }
    const actual = digest?.hash.digest('hex');
    if (have !== file.size || (digest && actual !== file.etag)) {
      fs.rmSync(partial, { force: true });
      const found = have !== file.size ? `${have} bytes instead of ${file.size}` : `${digest!.algorithm} ${actual} instead of ${file.etag}`;
      throw new EngineError('DOWNLOAD_FAILED', `${label} is corrupted: the server sent ${found}. The bad file was deleted; run the download again, and if this repeats check HF_ENDPOINT or a proxy.`);
    }
    fs.renameSync(partial, blob);
    return;
  }
  throw new EngineError('DOWNLOAD_FAILED', `${label}: the download kept breaking off after ${MAX_ATTEMPTS} tries. Run it again to resume.`);
}
