// /show: the model in use, its facts (ollama's `show`): architecture, size, context, file,
// graph, template, its own sampling defaults and where it lives.
import { noArgs } from './commandArgs.js';
import { formatShow } from './showReport.js';
import type { SlashCommand } from './slashCommand.js';

export const showCommand: SlashCommand = {
  name: 'show',
  aliases: [],
  args: '',
  description: "the model's facts: architecture, parameters, context, file, template, its own defaults, folder",
  run: (chat, raw) => {
    if (!noArgs(chat, 'show', raw)) return;
    const model = chat.engine.model;
    if (!model) return chat.view.notice('No model is loaded yet: /model loads one.', 'error');
    chat.view.notice(formatShow({ label: chat.slot.label ?? model.modelId, model }));
  },
};
