/** Model sources beyond a plain folder: the Hugging Face cache (resolve, offline) and Hub downloads. */
export { downloadModel } from './download';
export type { DownloadOptions, DownloadProgress, DownloadResult } from './download';
export { resolveModelSource } from './resolve';
export type { ModelSource, ResolveOptions } from './resolve';
export { listCachedModels } from './list';
export type { CachedModel } from './list';
export { parseHubId } from './cache';
export { hubCacheDir, hubEndpoint, isOfflineByEnv } from './settings';
