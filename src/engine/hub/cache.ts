/**
 * The Hugging Face cache layout, shared with Python's huggingface_hub:
 *
 *   <cache>/models--<org>--<name>/
 *     refs/<revision>                  the commit a branch or tag pointed to (no trailing newline)
 *     blobs/<etag>                     file contents, named by sha256 (LFS files) or git sha1 (small files)
 *     blobs/<etag>.incomplete          a download in progress, resumed from its length
 *     snapshots/<commit>/<file>        relative symlink to ../../blobs/<etag> (a copy where links fail)
 */
import * as fs from 'fs';
import * as path from 'path';

export interface HubId {
  readonly repoId: string;
  readonly revision?: string;
}

export const DEFAULT_REVISION = 'main';
const COMMIT_HASH = /^[0-9a-f]{40}$/;
const NAME_PART = /^[\w.-]+$/;
const REVISION = /^[\w.\/-]+$/;

export function isCommitHash(revision: string): boolean {
  return COMMIT_HASH.test(revision);
}

function isValidNamePart(part: string): boolean {
  return NAME_PART.test(part) && part.length <= 96 && !part.includes('--') && !part.includes('..') && !/^[.-]|[.-]$/.test(part);
}

/** True for a revision that is safe to join onto refs/: no "..", no absolute path, no backslash. */
function isValidRevision(revision: string): boolean {
  return REVISION.test(revision) && !revision.split('/').some((s) => s === '' || s === '.' || s === '..');
}

/** "org/name", "name" or either with "@revision"; undefined when the text cannot be a Hub model id. */
export function parseHubId(spec: string): HubId | undefined {
  const at = spec.indexOf('@');
  const repoId = at < 0 ? spec : spec.slice(0, at);
  const revision = at < 0 ? undefined : spec.slice(at + 1);
  const parts = repoId.split('/');
  if (parts.length > 2 || !parts.every(isValidNamePart)) return undefined;
  if (revision !== undefined && !isValidRevision(revision)) return undefined;
  return { repoId, revision };
}

export function repoFolder(cacheDir: string, repoId: string): string {
  return path.join(cacheDir, ['models', ...repoId.split('/')].join('--'));
}

export function snapshotFolder(repoDir: string, commit: string): string {
  return path.join(repoDir, 'snapshots', commit);
}

export function blobPath(repoDir: string, etag: string): string {
  return path.join(repoDir, 'blobs', etag);
}

export function readRef(repoDir: string, revision: string): string | undefined {
  try {
    const commit = fs.readFileSync(path.join(repoDir, 'refs', revision), 'utf8').trim();
    return isCommitHash(commit) ? commit : undefined;
  } catch {
    return undefined;
  }
}

export function writeRef(repoDir: string, revision: string, commit: string): void {
  const file = path.join(repoDir, 'refs', revision);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, commit); // huggingface_hub reads the file verbatim: no newline
}

/** The snapshot a revision (branch, tag or commit) names in the cache, if that folder exists. */
export function findSnapshot(cacheDir: string, repoId: string, revision: string): { commit: string; folder: string } | undefined {
  const repoDir = repoFolder(cacheDir, repoId);
  const commit = isCommitHash(revision) ? revision : readRef(repoDir, revision);
  if (!commit) return undefined;
  const folder = snapshotFolder(repoDir, commit);
  return fs.existsSync(folder) ? { commit, folder } : undefined;
}

/**
 * The files a snapshot still lacks before the engine can load it: config.json and the weights
 * (model.safetensors, or the index and every shard it lists). A dangling link counts as missing.
 */
export function missingSnapshotFiles(folder: string): string[] {
  const missing = ['config.json'].filter((f) => !fs.existsSync(path.join(folder, f)));
  if (fs.existsSync(path.join(folder, 'model.safetensors'))) return missing;
  const indexFile = path.join(folder, 'model.safetensors.index.json');
  if (!fs.existsSync(indexFile)) return [...missing, 'model.safetensors'];
  try {
    const shards = new Set(Object.values<string>(JSON.parse(fs.readFileSync(indexFile, 'utf8')).weight_map ?? {}));
    return [...missing, ...[...shards].filter((s) => !fs.existsSync(path.join(folder, s)))];
  } catch {
    return missing; // a damaged index is reported, with its reason, by the loader
  }
}

/** "org/name" for a folder inside a cache's snapshots/, so a loaded model shows its Hub name. */
export function repoIdFromSnapshotPath(folder: string): string | undefined {
  const parts = path.resolve(folder).split(path.sep);
  const [repoPart, snapshots, commit] = parts.slice(-3);
  if (snapshots !== 'snapshots' || !isCommitHash(commit ?? '') || !repoPart?.startsWith('models--')) return undefined;
  return repoPart.slice('models--'.length).split('--').join('/');
}

/** A repository file name that stays inside the snapshot folder when joined onto it. */
export function isSafeRepoFile(name: string): boolean {
  return !path.isAbsolute(name) && !name.includes('\\') && name.split('/').every((s) => s !== '' && s !== '.' && s !== '..');
}

/**
 * Points snapshots/<commit>/<file> at its blob with a relative link, as huggingface_hub does, so the
 * cache survives being moved; where links are not allowed (Windows without developer mode) it copies.
 */
export function linkIntoSnapshot(blob: string, snapshotFile: string): void {
  fs.mkdirSync(path.dirname(snapshotFile), { recursive: true });
  fs.rmSync(snapshotFile, { force: true });
  try {
    fs.symlinkSync(path.relative(path.dirname(snapshotFile), blob), snapshotFile, 'file');
  } catch {
    fs.copyFileSync(blob, snapshotFile);
  }
}
