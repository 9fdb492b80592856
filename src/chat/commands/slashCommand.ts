// A slash command: its row in the table (/help and Tab completion are generated from the
// rows) and what it does to the chat.
import type { ChatContext } from '../chatContext.js';
import type { ArgKind } from '../view/viewState.js';

export interface CommandInfo {
  name: string;
  aliases: readonly string[];
  /** Usage of the arguments, as shown by /help; '' for none. */
  args: string;
  description: string;
  /** What Tab completes the argument from; 'path': files and folders. */
  completes?: ArgKind | 'path';
}

export interface SlashCommand extends CommandInfo {
  /** `args`: everything after the name, unparsed. What goes wrong becomes a notice. */
  run(chat: ChatContext, args: string): Promise<void> | void;
}
