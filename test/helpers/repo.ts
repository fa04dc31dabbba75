/** Paths inside this repository, as the compiled tests (out/test/…) reach them. */
import * as path from 'path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

export function repoPath(...parts: string[]): string {
  return path.join(REPO_ROOT, ...parts);
}

/** The built command line and engine process (npm run build). */
export const CLI = repoPath('dist', 'cli.js');
export const ENGINE_WORKER = repoPath('dist', 'engineWorker.js');
