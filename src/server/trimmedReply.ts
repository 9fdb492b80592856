// A chat reply streams as the terminal shows it: the format's cleanReply trims the edges
// (GPT-2 writes " Hello" after "Assistant:"), so leading whitespace is dropped and trailing
// whitespace is held back until more text follows it. The deltas concatenate to the trimmed
// reply.
export class TrimmedReply {
  private started = false;
  private held = '';

  push(delta: string): string {
    let text = this.held + delta;
    if (!this.started) {
      text = text.replace(/^\s+/, '');
      if (text === '') return '';
      this.started = true;
    }
    const body = text.replace(/\s+$/, '');
    this.held = text.slice(body.length);
    return body;
  }
}
