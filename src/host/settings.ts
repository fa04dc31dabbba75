/** The extension's settings (package.json `contributes.configuration`), read in one typed place. */
import * as vscode from 'vscode';
import type { BackendChoice } from '../engine/backends';
import { DEFAULT_MAX_LOADED_MODELS } from '../engine/worker/modelCache';
import type { HeadAggregate } from '../protocol/messages';

export const SETTINGS_SECTION = 'attentionInspector';

export interface InspectorSettings {
  /** A model folder, a Hub id in the Hugging Face cache, or "demo" / "demo-causal". */
  readonly model: string;
  readonly backend: BackendChoice;
  /** Above this many tokens a run stops and offers to truncate. */
  readonly maxTokens: number;
  /** The memory a run may use, in MB; 0: half of the free memory. */
  readonly memoryBudgetMB: number;
  /** Rotary models may run past max_position_embeddings. */
  readonly pastContext: boolean;
  /** Models the engine keeps loaded; the least recently used one beyond this frees its memory. */
  readonly maxLoadedModels: number;
  readonly hoverTopK: number;
  /** How hovers and the heat overlay combine heads until the panel reports its own choice. */
  readonly defaultAggregation: HeadAggregate;
  /** No download. The hub code also obeys HF_HUB_OFFLINE on its own (and names which one refused). */
  readonly offline: boolean;
}

export function readSettings(scope?: vscode.ConfigurationScope): InspectorSettings {
  const config = vscode.workspace.getConfiguration(SETTINGS_SECTION, scope);
  return {
    model: config.get<string>('model', 'demo').trim() || 'demo',
    backend: config.get<BackendChoice>('backend', 'auto'),
    maxTokens: Math.max(1, Math.floor(config.get<number>('maxTokens', 1024))),
    memoryBudgetMB: Math.max(0, Math.floor(config.get<number>('memoryBudgetMB', 0))),
    pastContext: config.get<boolean>('pastContext', false),
    maxLoadedModels: Math.max(1, Math.floor(config.get<number>('maxLoadedModels', DEFAULT_MAX_LOADED_MODELS))),
    hoverTopK: Math.max(1, Math.floor(config.get<number>('hover.topK', 5))),
    defaultAggregation: config.get<HeadAggregate>('defaultAggregation', 'mean'),
    offline: config.get<boolean>('offline', false),
  };
}

/** A model setting as the status bar names it: a folder by its last segment, a Hub id or demo as is. */
export function modelName(setting: string): string {
  const trimmed = setting.replace(/[\\/]+$/, '');
  const looksLikePath = /^([a-zA-Z]:)?[\\/.~]/.test(trimmed);
  return looksLikePath ? trimmed.split(/[\\/]/).pop() || trimmed : trimmed;
}
