// /model: switch to another model, keeping the conversation; alone, the aliases and what
// the model cache holds.
import { modelCacheDir } from '../../paths.js';
import { MODEL_ALIASES } from '../../engine/load/modelRefs.js';
import { listCachedModels } from '../../hub/cachedModels.js';
import type { ChatContext } from '../chatContext.js';
import { modelLabel } from '../modelLabel.js';
import { optionalArg } from './commandArgs.js';
import { formatModelList } from './reports.js';
import type { SlashCommand } from './slashCommand.js';

/** Loads a model in the background; the old one stays if it fails. */
export function switchModel(chat: ChatContext, ref: string): void {
  chat.view.notice(`Loading ${ref}; the conversation is kept.`);
  void chat.slot.load(chat.engine.canonicalRef?.(ref) ?? ref);
}

async function showModels(chat: ChatContext): Promise<void> {
  const cacheDir = modelCacheDir();
  const cached = await listCachedModels(cacheDir).catch(() => []);
  const current = chat.slot.ref;
  chat.view.notice(formatModelList(MODEL_ALIASES, current === null ? null : modelLabel(current), { dir: cacheDir, models: cached }));
}

export const modelCommand: SlashCommand = {
  name: 'model',
  aliases: [],
  args: '[alias|hub id|folder|endpoint:NAME]',
  description:
    'switch model, keeping the conversation (endpoint:NAME: a model on the --endpoint server); alone, list aliases and cached models',
  completes: 'model',
  run: (chat, raw) => {
    const ref = optionalArg(raw);
    if (ref === null) return showModels(chat);
    switchModel(chat, ref);
  },
};
