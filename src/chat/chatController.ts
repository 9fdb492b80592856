// The chat as the screen sees it (ChatModel): lines typed, keys that stop or answer, and the
// ways out. It is built on the chat's parts (wireChat); a slash command acts on them itself.
import type { Session } from '../session/types.js';
import type { ChatContext } from './chatContext.js';
import type { ChatModel } from './chatModel.js';
import { COMMANDS } from './commands/commandTable.js';
import { parseSlashCommand } from './commands/parseSlashCommand.js';
import { runReported } from './reported.js';
import { cancelFileWork, submitMessage } from './files/fileMessages.js';
import type { ViewState } from './view/viewState.js';
import { wireChat, type ChatInput } from './wireChat.js';

/** What the chat starts from; the command names come from the command table. */
export type ChatControllerInput = Omit<ChatInput, 'commandNames'>;

export class ChatController implements ChatModel {
  /** The chat's parts, as commands get them. */
  readonly chat: ChatContext;
  /** The user chose to leave although the session is not saved. */
  private leaveUnsaved = false;

  constructor(input: ChatControllerInput) {
    this.chat = wireChat({ ...input, commandNames: COMMANDS.map((c) => c.name) });
  }

  subscribe = (listener: () => void): (() => void) => this.chat.view.subscribe(listener);

  getState = (): ViewState => this.chat.view.getState();

  /** Loads the model the settings name; call once the screen is up. */
  start(): void {
    void this.chat.slot.load(this.chat.effective().values.model);
  }

  submit(text: string): void {
    const { view } = this.chat;
    const parsed = parseSlashCommand(text, COMMANDS);
    if (parsed.kind === 'message') {
      submitMessage(this.chat, parsed.text);
      return;
    }
    view.notice(`› ${text}`);
    if (parsed.kind === 'unknown') {
      const hint = parsed.suggestion ? ` Did you mean /${parsed.suggestion}?` : '';
      view.notice(`Unknown command /${parsed.name}.${hint} /help lists the commands.`, 'error');
      return;
    }
    runReported(view, () => parsed.command.run(this.chat, parsed.args));
  }

  stop(): void {
    if (cancelFileWork(this.chat)) return;
    this.chat.turns.stop();
  }

  unqueue(): void {
    this.chat.queue.removeLast();
  }

  answer(yes: boolean): void {
    this.chat.questions.answer(yes);
  }

  choose(text: string): void {
    this.chat.questions.choose(text);
  }

  draftChanged(text: string): void {
    this.chat.meter.draftChanged(text);
  }

  setReplyWidth(columns: number): void {
    this.chat.turns.setReplyWidth(columns);
  }

  clearScreen(): void {
    this.chat.reprint([]);
  }

  report(message: string): void {
    this.chat.view.notice(message, 'error');
  }

  redraw(): void {
    this.chat.reprint([...this.chat.view.getState().transcript]);
  }

  async exit(): Promise<boolean> {
    const { keeper, meter, turns, view } = this.chat;
    // A reply in progress is stopped and kept, then everything is saved; messages queued
    // behind it are not sent to a chat that is closing.
    this.chat.queue.takeAll();
    await turns.finish();
    await keeper.autosave();
    if (keeper.unsaved === null || this.leaveUnsaved) {
      meter.dispose();
      return true;
    }
    view.update({ exitRequested: false });
    this.chat.unsaved.ask('leaving', () => {
      this.leaveUnsaved = true;
      view.update({ exitRequested: true });
    });
    return false;
  }

  /** Leaves without asking (a signal, a fatal error): stops a reply, saves, and says how that went. */
  async shutdown(): Promise<number> {
    this.chat.meter.dispose();
    this.chat.queue.takeAll();
    await this.chat.turns.finish();
    await this.chat.keeper.autosave();
    return this.exitCode;
  }

  /** The session in use. */
  get session(): Session {
    return this.chat.keeper.session;
  }

  /** 0 when the session is saved, 1 when its last save failed. */
  get exitCode(): number {
    return this.chat.keeper.unsaved === null ? 0 : 1;
  }

  /** Why the session is not saved, or null. */
  get unsavedReason(): string | null {
    return this.chat.keeper.unsaved;
  }
}
