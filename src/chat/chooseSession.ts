// Which session a chat starts with: `--session NAME` continues or creates that one,
// `--resume` the most recent, and otherwise a new one with a fresh name.
import { setPersona } from '../prompt/conversation.js';
import { resolvePersona } from '../prompt/personas.js';
import { defaultSessionName, sessionNameError, uniqueSessionName } from '../session/sessionNames.js';
import { newSession, SessionError, type SessionStore } from '../session/sessionStore.js';
import type { Session } from '../session/types.js';

export interface SessionChoice {
  session?: string;
  resume: boolean;
  /** --system: persona text or preset for this session. */
  system?: string;
  /** The persona setting, for new sessions. */
  defaultPersona: string | null;
}

export async function chooseSession(
  store: SessionStore,
  choice: SessionChoice,
  now: Date,
): Promise<{ session: Session; greeting: string[] }> {
  const greeting: string[] = [];
  let session: Session | null = null;
  if (choice.session !== undefined) {
    const nameError = sessionNameError(choice.session);
    if (nameError) throw new SessionError('bad-name', nameError);
    session = await store.loadOrCreate(choice.session, { now });
  } else if (choice.resume) {
    const latest = (await store.list()).find((e) => e.ok);
    if (latest) session = await store.load(latest.name);
    else greeting.push('There is no saved session to resume yet; this is a new one.');
  }
  if (session === null) {
    const taken = new Set((await store.list()).map((e) => e.name));
    session = newSession(uniqueSessionName(defaultSessionName(now), taken), { now });
  }
  const persona =
    choice.system !== undefined
      ? resolvePersona(choice.system)
      : session.revision === 0
        ? resolvePersona(choice.defaultPersona)
        : undefined;
  if (persona !== undefined) session = { ...session, conversation: setPersona(session.conversation, persona) };
  return { session, greeting };
}
