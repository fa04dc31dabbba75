/**
 * From the model setting (or a picked model) to what the engine opens: the built-in demo, a folder
 * (absolute, `~/…`, or relative to the document's workspace folder), or a Hub id found in the Hugging
 * Face cache. Never touches the network. Also answers, from config.json alone, what a model can do.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { readConfigFile } from '../../engine/loader/config';
import { EngineError } from '../../engine/errors';
import { resolveModelSource } from '../../engine/hub';
import { readSafetensorsIndex } from '../../engine/loader/safetensors';
import { isDemoModel } from '../../engine/demo/demoModel';
import { missingSnapshotFiles } from '../../engine/hub/cache';


export interface ResolvedModel {
  /** As the user wrote it. */
  readonly spec: string;
  /** What the engine worker loads: "demo", "demo-causal" or a folder. */
  readonly path: string;
}

function expandHome(spec: string): string {
  return spec === '~' || spec.startsWith('~/') ? path.join(os.homedir(), spec.slice(1)) : spec;
}

/** Throws an EngineError that says what to do when the model cannot be found. */
export function resolveModel(spec: string, document?: vscode.TextDocument): ResolvedModel {
  if (isDemoModel(spec)) return { spec, path: spec };
  const expanded = expandHome(spec);
  if (!path.isAbsolute(expanded)) {
    const folder = (document && vscode.workspace.getWorkspaceFolder(document.uri)) ?? vscode.workspace.workspaceFolders?.[0];
    const inWorkspace = folder && path.join(folder.uri.fsPath, expanded);
    if (inWorkspace && fs.existsSync(inWorkspace)) return { spec, path: inWorkspace };
  }
  return { spec, path: resolveModelSource(expanded).path };
}

export interface ModelAbilities {
  /** Has cross-attention: takes a target (encoder-decoders and the demo). */
  readonly crossAttention: boolean;
  /** Can generate a target (encoder-decoders; not the demo). */
  readonly generate: boolean;
  /** The config's model_type (or the demo's name), for messages. */
  readonly modelType: string;
}

export function modelAbilities(model: ResolvedModel): ModelAbilities {
  if (isDemoModel(model.path)) return { crossAttention: true, generate: false, modelType: model.path };
  const config = readConfigFile(model.path);
  const encoderDecoder = config.family === 't5' || config.family === 'bart';
  return { crossAttention: encoderDecoder, generate: encoderDecoder, modelType: config.modelType };
}

/**
 * Checks a folder before it becomes the model: a readable config.json of a supported architecture,
 * and safetensors weights whose headers parse. The weights themselves are read by the engine on use.
 */
export function validateModelFolder(folder: string): void {
  readConfigFile(folder);
  const missing = missingSnapshotFiles(folder);
  if (missing.length) {
    throw new EngineError('BAD_MODEL_FOLDER', `${folder} lacks ${missing.join(', ')}: a model folder needs config.json, safetensors weights and, for text, tokenizer.json.`, {
      remedies: ['choose-model'], details: { file: folder },
    });
  }
  const single = path.join(folder, 'model.safetensors');
  if (fs.existsSync(single)) readSafetensorsIndex(single);
}
