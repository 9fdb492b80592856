// /help: every command and the keys, or one command's usage.
import { closestName } from '../../text/closestName.js';
import { optionalArg } from './commandArgs.js';
import { findCommand } from './parseSlashCommand.js';
import { definitionsItem } from '../view/transcriptItems.js';
import { formatHelp, helpSections } from './reports.js';
import type { CommandInfo, SlashCommand } from './slashCommand.js';

/** `table` gives the rows /help lists: the table this command is itself a row of. */
export function helpCommand(table: () => readonly CommandInfo[]): SlashCommand {
  return {
    name: 'help',
    aliases: ['?'],
    args: '[command]',
    description: 'list commands and keys',
    completes: 'command',
    run: (chat, raw) => {
      const commands = table();
      const name = optionalArg(raw)?.replace(/^\//, '') ?? null;
      if (name === null) return chat.view.append(definitionsItem(helpSections(commands)));
      const command = findCommand(commands, name);
      if (!command) {
        const suggestion = closestName(
          name,
          commands.map((c) => c.name),
        );
        return chat.view.notice(`Unknown command /${name}.${suggestion ? ` Did you mean /${suggestion}?` : ''}`, 'error');
      }
      chat.view.notice(formatHelp([command]).split('\n')[0] ?? '');
    },
  };
}
