/**
 * Downloads a Hub model into the Hugging Face cache: config, tokenizer and safetensors weights only
 * (sharded too), resumable, checked, and laid out exactly as huggingface_hub lays it out so Python
 * tools find it and we find theirs. This is the only code that touches the network, and it runs only
 * when a user asks for a download.
 *
 * Why Node's fetch and not @huggingface/hub (2.17): its downloadFileToCacheDir writes the same cache
 * layout and takes a custom hub URL, but it restarts partial files from zero (no Range resume),
 * reports no progress, checks neither size nor sha256, takes no AbortSignal, names the snapshot after
 * each file's last commit instead of the revision's commit, and brings ~11 MB of dependencies. What
 * we need from the Hub is three plain requests (see http.ts).
 */
import * as fs from 'fs';
import * as path from 'path';
import { EngineError } from '../errors';
import { downloadBlob } from './blobDownload';
import {
  blobPath, findSnapshot, isCommitHash, isSafeRepoFile, linkIntoSnapshot, missingSnapshotFiles,
  parseHubId, repoFolder, snapshotFolder, writeRef,
} from './cache';
import { cancelledError, HubHttp, RemoteFile } from './http';
import { hubRevision } from './resolve';
import { Env, hubCacheDir, hubEndpoint, hubToken, isOfflineByEnv } from './settings';

/** What the engine reads; .bin, .h5, .msgpack, .onnx and .gguf weights are never fetched. */
const CONFIG_AND_TOKENIZER = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'];
const SINGLE_WEIGHTS = 'model.safetensors';
const WEIGHTS_INDEX = 'model.safetensors.index.json';

export interface DownloadProgress {
  readonly file: string;
  readonly fileBytes: number;
  readonly fileTotal: number;
  readonly bytesDone: number;
  readonly bytesTotal: number;
  readonly filesDone: number;
  readonly filesTotal: number;
}

export interface DownloadOptions {
  /** A branch, tag or commit; the same as "org/name@revision". Default: main. */
  readonly revision?: string;
  /** Default HF_ENDPOINT, else https://huggingface.co. */
  readonly endpoint?: string;
  /** Default HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub. */
  readonly cacheDir?: string;
  /** For gated or private models; default HF_TOKEN, else the token huggingface-cli login saved. */
  readonly token?: string;
  /** No network at all, as HF_HUB_OFFLINE=1 also enforces (an editor setting cannot override it). A cached model is still returned. */
  readonly offline?: boolean;
  readonly onProgress?: (progress: DownloadProgress) => void;
  readonly signal?: AbortSignal;
  /** Where HF_* variables are read; default process.env. */
  readonly env?: Env;
}

export interface DownloadResult {
  readonly repoId: string;
  readonly revision: string;
  readonly commit: string;
  /** snapshots/<commit>: pass it to loadModel. */
  readonly snapshotPath: string;
  /** 0 when everything was already cached. */
  readonly downloadedBytes: number;
}

function completeSnapshot(cacheDir: string, repoId: string, revision: string): { commit: string; folder: string } | undefined {
  const found = findSnapshot(cacheDir, repoId, revision);
  return found && missingSnapshotFiles(found.folder).length === 0 ? found : undefined;
}

/** The files to fetch from a repository's file list: weights as one file or as an index of shards. */
function chooseFiles(repoId: string, available: ReadonlySet<string>): string[] {
  if (!available.has('config.json')) {
    throw new EngineError('DOWNLOAD_FAILED', `${repoId} has no config.json, so it is not a transformers model repository.`);
  }
  const chosen = CONFIG_AND_TOKENIZER.filter((f) => available.has(f));
  if (available.has(SINGLE_WEIGHTS)) return [...chosen, SINGLE_WEIGHTS];
  if (available.has(WEIGHTS_INDEX)) return [...chosen, WEIGHTS_INDEX];
  const otherWeights = [...available].filter((f) => /\.(bin|h5|msgpack|onnx|gguf|pt|pth|ckpt)$/.test(f));
  throw new EngineError(
    'DOWNLOAD_FAILED',
    `${repoId} has no safetensors weights${otherWeights.length ? ` (only ${otherWeights.slice(0, 3).join(', ')})` : ''}. Attention Inspector reads only safetensors: choose a repository that has model.safetensors, or convert the checkpoint with transformers' save_pretrained.`,
  );
}

function shardNames(repoId: string, indexFile: string, available: ReadonlySet<string>): string[] {
  let weightMap: unknown;
  try {
    weightMap = JSON.parse(fs.readFileSync(indexFile, 'utf8')).weight_map;
  } catch (err) {
    throw new EngineError('DOWNLOAD_FAILED', `${repoId}/${WEIGHTS_INDEX} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof weightMap !== 'object' || weightMap === null) throw new EngineError('DOWNLOAD_FAILED', `${repoId}/${WEIGHTS_INDEX} has no "weight_map" object.`);
  const shards = [...new Set(Object.values(weightMap))];
  for (const shard of shards) {
    if (typeof shard !== 'string' || !isSafeRepoFile(shard) || !available.has(shard)) {
      throw new EngineError('DOWNLOAD_FAILED', `${repoId}/${WEIGHTS_INDEX} lists the shard ${JSON.stringify(shard)}, which the repository does not have.`);
    }
  }
  return shards as string[];
}

function hasBlob(file: string, size: number): boolean {
  try {
    return fs.statSync(file).size === size;
  } catch {
    return false;
  }
}

export async function downloadModel(spec: string, options: DownloadOptions = {}): Promise<DownloadResult> {
  const hubId = parseHubId(spec);
  if (!hubId) throw new EngineError('BAD_INPUT', `"${spec}" is not a Hugging Face model id: use org/name, optionally followed by @revision.`);
  const { repoId } = hubId;
  const revision = hubRevision(hubId.revision, options.revision, spec);
  const env = options.env ?? process.env;
  const cacheDir = options.cacheDir ?? hubCacheDir(env);
  const cached = completeSnapshot(cacheDir, repoId, revision);
  const fromCache = (found: { commit: string; folder: string }): DownloadResult => ({ repoId, revision, commit: found.commit, snapshotPath: found.folder, downloadedBytes: 0 });

  if (options.offline || isOfflineByEnv(env)) {
    if (cached) return fromCache(cached);
    const why = options.offline ? 'offline mode is on' : 'HF_HUB_OFFLINE is set';
    throw new EngineError('OFFLINE', `Cannot download ${repoId}: ${why}, and it is not in the Hugging Face cache (${cacheDir}).`, { remedies: ['allow-downloads', 'choose-model'], details: { repoId, revision } });
  }
  if (cached && isCommitHash(revision)) return fromCache(cached); // a commit's files never change
  if (options.signal?.aborted) throw cancelledError();

  const http = new HubHttp(options.endpoint?.replace(/\/+$/, '') ?? hubEndpoint(env), options.token ?? hubToken(env), options.signal);
  const listing = await http.repoRevision(repoId, revision);
  if (!isCommitHash(listing.commit)) throw new EngineError('DOWNLOAD_FAILED', `${http.endpoint} gave "${listing.commit}" as the commit of ${repoId}, which is not a commit hash.`);
  const { commit } = listing;
  const available = new Set(listing.files);
  const repoDir = repoFolder(cacheDir, repoId);
  fs.mkdirSync(path.join(repoDir, 'blobs'), { recursive: true });

  let downloadedBytes = 0;
  /** Puts one file into blobs/ (unless it is there) and links it into the snapshot. */
  const fetchFile = async (file: RemoteFile, onBytes: (fileBytes: number) => void): Promise<string> => {
    const blob = blobPath(repoDir, file.etag);
    if (!hasBlob(blob, file.size)) {
      await downloadBlob(http, file, blob, `${repoId}/${file.name}`, onBytes, options.signal);
      downloadedBytes += file.size;
    }
    const inSnapshot = path.join(snapshotFolder(repoDir, commit), ...file.name.split('/'));
    linkIntoSnapshot(blob, inSnapshot);
    return inSnapshot;
  };

  const plan: RemoteFile[] = [];
  for (const name of chooseFiles(repoId, available)) plan.push(await http.fileInfo(repoId, commit, name));
  const index = plan.find((f) => f.name === WEIGHTS_INDEX);
  if (index) {
    // The index is small and names the shards: fetch it before the totals are known; the loop below
    // then counts it as already done.
    const indexFile = await fetchFile(index, () => undefined);
    for (const shard of shardNames(repoId, indexFile, available)) plan.push(await http.fileInfo(repoId, commit, shard));
  }

  const bytesTotal = plan.reduce((sum, f) => sum + f.size, 0);
  let bytesBefore = 0;
  for (const [filesDone, file] of plan.entries()) {
    const report = (fileBytes: number) => options.onProgress?.({
      file: file.name, fileBytes, fileTotal: file.size, bytesDone: bytesBefore + fileBytes, bytesTotal, filesDone, filesTotal: plan.length,
    });
    report(0);
    await fetchFile(file, report);
    bytesBefore += file.size;
    options.onProgress?.({ file: file.name, fileBytes: file.size, fileTotal: file.size, bytesDone: bytesBefore, bytesTotal, filesDone: filesDone + 1, filesTotal: plan.length });
  }
  const snapshotPath = snapshotFolder(repoDir, commit);
  const missing = missingSnapshotFiles(snapshotPath);
  if (missing.length) throw new EngineError('DOWNLOAD_FAILED', `${snapshotPath} still lacks ${missing.join(', ')} after the download; run it again.`);
  if (revision !== commit) writeRef(repoDir, revision, commit);
  return { repoId, revision, commit, snapshotPath, downloadedBytes };
}
