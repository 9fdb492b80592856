// Every slash command, in the order /help lists them; /help and Tab completion are
// generated from this table.
import { clearCommand } from './clear.js';
import { contextCommand } from './context.js';
import { copyCommand } from './copy.js';
import { deleteCommand } from './delete.js';
import { editCommand } from './edit.js';
import { editorCommand } from './editor.js';
import { exitCommand } from './exit.js';
import { exportCommand } from './export.js';
import { fileCommand } from './file.js';
import { helpCommand } from './help.js';
import { loadCommand } from './load.js';
import { markdownCommand } from './markdown.js';
import { modelCommand } from './model.js';
import { newCommand } from './new.js';
import { personaCommand } from './persona.js';
import { retryCommand } from './retry.js';
import { samplingCommands } from './sampling.js';
import { saveCommand } from './save.js';
import { sessionsCommand } from './sessions.js';
import { settingsCommand } from './settings.js';
import { showCommand } from './show.js';
import type { SlashCommand } from './slashCommand.js';
import { statsCommand } from './stats.js';
import { systemCommand } from './system.js';
import { undoCommand } from './undo.js';

export const COMMANDS: readonly SlashCommand[] = [
  ...samplingCommands,
  modelCommand,
  showCommand,
  fileCommand,
  systemCommand,
  personaCommand,
  newCommand,
  saveCommand,
  loadCommand,
  sessionsCommand,
  deleteCommand,
  exportCommand,
  retryCommand,
  undoCommand,
  editCommand,
  editorCommand,
  copyCommand,
  contextCommand,
  statsCommand,
  markdownCommand,
  settingsCommand,
  clearCommand,
  exitCommand,
  helpCommand(() => COMMANDS),
];
