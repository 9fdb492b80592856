// The interactive chat in a process of its own (not a test file itself), on the scripted
// engine with a slow, endless reply, for tests that signal or kill it in a real terminal:
//   chatChild SESSIONS_DIR PID_FILE [throw]
// writes its pid to PID_FILE as it starts. With "throw", the first message makes the process
// throw an uncaught exception while the reply streams (after its tenth token).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { GenerationStream } from '../../src/engine/engineClient.js';
import type { GenerateEvent } from '../../src/engine/protocol.js';
import { SessionStore } from '../../src/session/sessionStore.js';
import { runChatApp } from '../../src/ui/runChatApp.js';
import { FakeEngine } from './fakeEngine.js';
import { parleyDirs } from './parleyEnv.js';

const [sessionsDir, pidFile, mode] = process.argv.slice(2);
if (sessionsDir === undefined || pidFile === undefined) throw new Error('usage: chatChild SESSIONS_DIR PID_FILE [throw]');

class ChildEngine extends FakeEngine {
  override generate(...args: Parameters<FakeEngine['generate']>): GenerationStream {
    const stream = super.generate(...args);
    if (mode !== 'throw') return stream;
    async function* throwingMidReply(): AsyncGenerator<GenerateEvent> {
      let tokens = 0;
      for await (const event of stream) {
        yield event;
        // Thrown from a callback of its own, so no handler of the chat's can catch it.
        if (event.type === 'token' && ++tokens === 10)
          setImmediate(() => {
            throw new Error('something broke outside any handler');
          });
      }
    }
    return Object.assign(throwingMidReply(), { requestId: stream.requestId });
  }
}

const engine = new ChildEngine({ delayMs: 50, fallback: { tokens: Array.from({ length: 2000 }, (_, i) => ` w${i}`) } });
const root = path.dirname(sessionsDir);
writeFileSync(pidFile, String(process.pid));
const code = await runChatApp({
  args: { offline: true, resume: false, session: 'signalled' },
  flags: { model: 'gpt2', maxNewTokens: 1000 },
  stored: {},
  store: new SessionStore(sessionsDir),
  cacheDir: root,
  engine,
  env: { ...parleyDirs(root), NO_COLOR: '1' },
});
process.exitCode = code;
