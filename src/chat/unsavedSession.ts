// Nothing drops a session whose last save failed: leaving it (/new, /load, exit) first asks
// whether to retry the save, save it under another name, or discard it.
import type { NoticeTone } from './view/transcriptItems.js';
import type { Questions } from './questions.js';
import type { SessionKeeper } from './sessionKeeper.js';

export const UNSAVED_ANSWERS = 'not saved: retry (r) / save as (s <name>) / discard (d)? Esc cancels';

export interface UnsavedGuardInput {
  keeper: SessionKeeper;
  questions: Questions;
  notice: (text: string, tone?: NoticeTone) => void;
  /** A session was saved under a new name. */
  onSavedAs: (name: string) => void;
}

export class UnsavedGuard {
  constructor(private readonly input: UnsavedGuardInput) {}

  /**
   * Runs `action`, which drops the session in use from memory, once the session is saved;
   * when it cannot be, asks first. `what` names the action in the question.
   */
  async leave(what: string, action: () => Promise<void> | void): Promise<void> {
    await this.input.keeper.autosave();
    if (this.input.keeper.unsaved === null) return action();
    this.ask(what, action);
  }

  /** Asks what to do with the unsaved session before `action` may drop it. */
  ask(what: string, action: () => Promise<void> | void): void {
    const { keeper, questions, notice } = this.input;
    const name = keeper.session.name;
    const question = `Session ${name} is not saved (${keeper.unsaved ?? 'unknown error'}), ${what} would lose it.`;
    questions.askChoice(question, UNSAVED_ANSWERS, async (text) => {
      const [word = '', ...rest] = text.trim().split(/\s+/);
      const choice = word.toLowerCase();
      if (choice === 'r' || choice === 'retry') return this.leave(what, action);
      if (choice === 'd' || choice === 'discard') {
        notice(`Session ${name} discarded: not saved.`, 'warning');
        return action();
      }
      if (choice === 's' || choice === 'save') {
        const target = (rest[0]?.toLowerCase() === 'as' ? rest.slice(1) : rest).join(' ');
        if (target === '') {
          notice('Save as needs a name: s <name>.', 'error');
          return this.ask(what, action);
        }
        const error = await keeper.saveAs(target);
        if (error !== null) {
          notice(error, 'error');
          return this.ask(what, action);
        }
        this.input.onSavedAs(target);
        return action();
      }
      notice(`Cancelled; session ${name} is still not saved.`);
    });
  }
}
