/**
 * The models the Hugging Face cache already holds, for a model picker: every `models--*` folder with a
 * complete snapshot (config.json and all safetensors weights), named by its refs (main, tags, other
 * branches) or, for a snapshot no ref points to, by its commit. Reads the disk only.
 */
import * as fs from 'fs';
import * as path from 'path';
import { DEFAULT_REVISION, isCommitHash, missingSnapshotFiles, readRef, snapshotFolder } from './cache';

export interface CachedModel {
  readonly repoId: string;
  /** A ref name (main, a tag, a branch) or a commit. */
  readonly revision: string;
  readonly commit: string;
  readonly folder: string;
  /** What resolveModelSource takes: "org/name", or "org/name@revision" off main. */
  readonly spec: string;
}

function subfolders(dir: string): string[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return [];
  }
}

/** Ref names under refs/, nested ones (refs/pr/1) included, with "/" separators. */
function refNames(dir: string, prefix = ''): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    if (e.isDirectory()) return refNames(path.join(dir, e.name), `${prefix}${e.name}/`);
    return e.isFile() ? [`${prefix}${e.name}`] : [];
  });
}

export function listCachedModels(cacheDir: string): CachedModel[] {
  const models: CachedModel[] = [];
  for (const name of subfolders(cacheDir).filter((n) => n.startsWith('models--')).sort()) {
    const repoId = name.slice('models--'.length).split('--').join('/');
    const repoDir = path.join(cacheDir, name);
    const complete = (commit: string) => {
      const folder = snapshotFolder(repoDir, commit);
      return fs.existsSync(folder) && missingSnapshotFiles(folder).length === 0 ? folder : undefined;
    };
    const named = new Set<string>();
    const refs = refNames(path.join(repoDir, 'refs')).sort((a, b) => Number(b === DEFAULT_REVISION) - Number(a === DEFAULT_REVISION) || a.localeCompare(b));
    for (const revision of refs) {
      const commit = readRef(repoDir, revision);
      const folder = commit && complete(commit);
      if (!commit || !folder) continue;
      named.add(commit);
      models.push({ repoId, revision, commit, folder, spec: revision === DEFAULT_REVISION ? repoId : `${repoId}@${revision}` });
    }
    for (const commit of subfolders(path.join(repoDir, 'snapshots')).filter((c) => isCommitHash(c) && !named.has(c))) {
      const folder = complete(commit);
      if (folder) models.push({ repoId, revision: commit, commit, folder, spec: `${repoId}@${commit}` });
    }
  }
  return models;
}
