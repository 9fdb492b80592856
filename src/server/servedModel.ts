// What the server knows about the one model it serves.
import type { ModelInfo } from '../engine/protocol.js';
import { formatFor, type PromptFormat } from '../prompt/promptFormat.js';

export interface ServedModel {
  /** The name clients send as `model` and /v1/models lists. */
  id: string;
  /** Other names a client may use for it (the folder's absolute path, its base name). */
  aliases: readonly string[];
  info: ModelInfo;
  /** How chat messages become its prompt. */
  format: PromptFormat;
  created: number;
}

export function servedModel(id: string, info: ModelInfo, aliases: readonly string[] = []): ServedModel {
  return { id, aliases, info, format: formatFor(info), created: Math.floor(Date.now() / 1000) };
}

export function namesModel(model: ServedModel, name: string): boolean {
  return name === model.id || model.aliases.includes(name);
}
