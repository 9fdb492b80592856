// The argument checks several commands share; each says what is wrong as an error notice.
import type { ChatContext } from '../chatContext.js';

/** The whole argument string, or null when there is none. */
export const optionalArg = (raw: string): string | null => (raw.trim() === '' ? null : raw.trim());

/** The whole argument string; null (after a usage notice) when there is none. */
export function requireArg(chat: ChatContext, name: string, usage: string, raw: string): string | null {
  const value = optionalArg(raw);
  if (value === null) chat.view.notice(`usage: /${name} ${usage}`, 'error');
  return value;
}

/** True when there are no arguments; otherwise says the command takes none. */
export function noArgs(chat: ChatContext, name: string, raw: string): boolean {
  if (raw.trim() === '') return true;
  chat.view.notice(`/${name} takes no arguments`, 'error');
  return false;
}

/** True (after an error notice) when a reply is on its way, so `what` cannot be done now. */
export function refusedWhileBusy(chat: ChatContext, what: string): boolean {
  if (!chat.turns.busy) return false;
  chat.view.notice(`Cannot ${what} while a reply is on its way; Esc stops it.`, 'error');
  return true;
}
