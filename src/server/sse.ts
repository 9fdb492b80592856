// Server-sent events on a raw response, as OpenAI streams: `data: <json>` blocks, then
// `data: [DONE]`. Writes after the client left are dropped. The connection header is Node's
// own: keep-alive, or close when the client asked for it.
import type { ServerResponse } from 'node:http';

export class EventStream {
  constructor(private readonly res: ServerResponse) {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();
  }

  get open(): boolean {
    return !this.res.destroyed && !this.res.writableEnded;
  }

  send(data: unknown): void {
    if (this.open) this.res.write(`data: ${JSON.stringify(data)}\n\n`);
  }

  end(): void {
    if (!this.open) return;
    this.res.write('data: [DONE]\n\n');
    this.res.end();
  }
}
