// Questions the next line answers (yes/no, or a choice among several answers), and text
// handed to the input box (/edit). Each answer runs its action off the key handler.
import type { ViewStore } from './view/viewStore.js';

type Action = () => Promise<void> | void;

export class Questions {
  private onYes: Action | null = null;
  private onNo: Action | null = null;
  private onChoice: ((text: string) => Promise<void> | void) | null = null;
  private inputSeq = 0;

  /** `run` runs an answer's action and reports its failure. */
  constructor(
    private readonly view: ViewStore,
    private readonly run: (action: Action) => void,
  ) {}

  /** A yes/no question: yes runs `onYes`; no runs `onNo` when given, else says it was cancelled. */
  ask(question: string, onYes: Action, onNo?: Action): void {
    this.onYes = onYes;
    this.onNo = onNo ?? null;
    this.view.update({ confirm: question });
  }

  answer(yes: boolean): void {
    const action = yes ? this.onYes : this.onNo;
    const asked = this.onYes !== null;
    this.onYes = null;
    this.onNo = null;
    this.view.update({ confirm: null });
    if (action) this.run(action);
    else if (asked) this.view.notice('Cancelled.');
  }

  /** A question whose answer is a line of text (`answers` says which); '' means cancel. */
  askChoice(question: string, answers: string, onAnswer: (text: string) => Promise<void> | void): void {
    this.onChoice = onAnswer;
    this.view.update({ choice: { question, answers } });
  }

  choose(text: string): void {
    const action = this.onChoice;
    this.onChoice = null;
    this.view.update({ choice: null });
    if (action) this.run(() => action(text));
  }

  /** Asks the screen to open $EDITOR on the input box's text (/editor). */
  openEditor(): void {
    this.inputSeq++;
    this.view.update({ editorRequest: { seq: this.inputSeq } });
  }

  putInInput(text: string): void {
    this.inputSeq++;
    this.view.update({ inputRequest: { text, seq: this.inputSeq } });
  }
}
