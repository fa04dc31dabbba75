/**
 * Which cache, Hub, token and offline switch to use, read from the same environment variables as
 * Python's huggingface_hub, so that both tools share one cache and obey one HF_HUB_OFFLINE.
 * Every function takes the environment as a parameter so tests never see the user's own.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export type Env = Readonly<Record<string, string | undefined>>;

const DEFAULT_ENDPOINT = 'https://huggingface.co';

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') || p.startsWith('~\\') ? path.join(os.homedir(), p.slice(1)) : p;
}

/** huggingface_hub's truthy spellings: 1, ON, YES, TRUE in any case. */
function isTrue(value: string | undefined): boolean {
  return value !== undefined && ['1', 'ON', 'YES', 'TRUE'].includes(value.trim().toUpperCase());
}

/** HF_HOME, else $XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface. */
function hfHome(env: Env = process.env): string {
  return expandHome(env.HF_HOME || path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'huggingface'));
}

/** HF_HUB_CACHE (or its old name HUGGINGFACE_HUB_CACHE), else HF_HOME/hub. */
export function hubCacheDir(env: Env = process.env): string {
  return expandHome(env.HF_HUB_CACHE || env.HUGGINGFACE_HUB_CACHE || path.join(hfHome(env), 'hub'));
}

export function hubEndpoint(env: Env = process.env): string {
  return (env.HF_ENDPOINT || DEFAULT_ENDPOINT).replace(/\/+$/, '');
}

/** HF_HUB_OFFLINE=1 (or transformers' TRANSFORMERS_OFFLINE=1) turns every network call off. */
export function isOfflineByEnv(env: Env = process.env): boolean {
  return isTrue(env.HF_HUB_OFFLINE) || isTrue(env.TRANSFORMERS_OFFLINE);
}

/** HF_TOKEN, else the token `huggingface-cli login` stored (HF_TOKEN_PATH, else HF_HOME/token). */
export function hubToken(env: Env = process.env): string | undefined {
  const fromEnv = env.HF_TOKEN || env.HUGGING_FACE_HUB_TOKEN;
  if (fromEnv) return fromEnv.trim();
  try {
    return fs.readFileSync(env.HF_TOKEN_PATH || path.join(hfHome(env), 'token'), 'utf8').trim() || undefined;
  } catch {
    return undefined; // not logged in: public models need no token
  }
}
