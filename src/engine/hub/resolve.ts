/**
 * Turns what a user typed or picked into a folder the loader can open: the built-in demo, a model
 * folder, or a Hub model id found in the Hugging Face cache. Never touches the network: a model that
 * is not cached yet gives an error that says how to download it (an explicit user action).
 */
import * as fs from 'fs';
import * as path from 'path';
import { EngineError } from '../errors';
import { type DemoModelName, isDemoModel } from '../demo/demoModel';
import { DEFAULT_REVISION, findSnapshot, missingSnapshotFiles, parseHubId } from './cache';
import { Env, hubCacheDir } from './settings';

export type ModelSource =
  | { readonly kind: 'demo'; readonly path: DemoModelName }
  | { readonly kind: 'folder'; readonly path: string }
  | { readonly kind: 'hub'; readonly path: string; readonly repoId: string; readonly revision: string; readonly commit: string };

export interface ResolveOptions {
  /** A branch, tag or commit; the same as "org/name@revision". Default: main. */
  readonly revision?: string;
  /** The cache to look in; default HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub. */
  readonly cacheDir?: string;
  readonly env?: Env;
}

/** Where a revision conflict between "org/name@rev" and a separate revision option is caught. */
export function hubRevision(specRevision: string | undefined, optionRevision: string | undefined, spec: string): string {
  if (specRevision && optionRevision && specRevision !== optionRevision) {
    throw new EngineError('BAD_INPUT', `"${spec}" names revision ${specRevision} but the revision option says ${optionRevision}: give one.`);
  }
  return specRevision ?? optionRevision ?? DEFAULT_REVISION;
}

function looksLikePath(spec: string): boolean {
  return path.isAbsolute(spec) || /^(\.{1,2}|~)([\/\\]|$)/.test(spec) || spec.includes('\\');
}

export function resolveModelSource(spec: string, options: ResolveOptions = {}): ModelSource {
  if (isDemoModel(spec)) return { kind: 'demo', path: spec };
  const folder = path.resolve(spec);
  if (fs.existsSync(folder) && fs.statSync(folder).isDirectory()) return { kind: 'folder', path: folder };
  const hubId = looksLikePath(spec) ? undefined : parseHubId(spec);
  if (!hubId) {
    throw new EngineError('BAD_MODEL_FOLDER', `${folder} is not a folder, and "${spec}" is not a Hub model id (org/name).`, { remedies: ['choose-model'], details: { file: folder } });
  }
  const revision = hubRevision(hubId.revision, options.revision, spec);
  const cacheDir = options.cacheDir ?? hubCacheDir(options.env);
  const named = `${hubId.repoId}${revision === DEFAULT_REVISION ? '' : `@${revision}`}`;
  const snapshot = findSnapshot(cacheDir, hubId.repoId, revision);
  const notCached = { remedies: ['download-model', 'choose-model'], details: { repoId: hubId.repoId, revision } } as const;
  if (!snapshot) {
    throw new EngineError('MODEL_NOT_CACHED', `${named} is neither a folder nor a model in the Hugging Face cache (${cacheDir}).`, notCached);
  }
  const missing = missingSnapshotFiles(snapshot.folder);
  if (missing.length) {
    throw new EngineError('MODEL_NOT_CACHED', `${named} is only partly in the Hugging Face cache: ${snapshot.folder} lacks ${missing.join(', ')}.`, notCached);
  }
  return { kind: 'hub', path: snapshot.folder, repoId: hubId.repoId, revision, commit: snapshot.commit };
}
