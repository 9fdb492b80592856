// A reply streamed as Markdown into the view: the model's text is cleaned of control
// sequences first (a sequence split across deltas is removed whole), then rendered; the
// lines that are final go to the transcript once, the open block to the live area.
import { MarkdownStream } from '../../markdown/markdownStream.js';
import { styler } from '../../markdown/markdownStyle.js';
import { createTextCleaner, type TextCleaner } from '../../text/terminalText.js';
import { styledLinesItem } from './transcriptItems.js';
import type { ViewStore } from './viewStore.js';

export class MarkdownReply {
  private readonly cleaner: TextCleaner = createTextCleaner('terminal');
  private readonly stream: MarkdownStream;

  constructor(
    private readonly view: ViewStore,
    width: number,
    colors: boolean,
  ) {
    this.stream = new MarkdownStream({ width, styler: styler(colors) });
  }

  setWidth(width: number): void {
    this.stream.setWidth(width);
  }

  /** A frame's worth of the model's text. */
  push(text: string): void {
    const live = this.view.getState().live;
    if (!live) return;
    const { settled, live: lines } = this.stream.push(this.cleaner.push(text));
    this.view.update({
      live: { ...live, text: live.text + text, lines },
      ...(settled.length > 0 ? { transcript: [...this.view.getState().transcript, styledLinesItem(settled)] } : {}),
    });
  }

  /** The reply has ended: its remaining lines, final. */
  end(): string[] {
    const tail = this.stream.push(this.cleaner.end()).settled;
    return [...tail, ...this.stream.end()];
  }
}
