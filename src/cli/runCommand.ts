import { text } from 'node:stream/consumers';
import { openSettings, SettingsError } from '../settings/settingsFile.js';
import { effectiveSettings } from '../settings/settingsPrecedence.js';
import { resolveSessionsDir } from '../session/sessionsDir.js';
import { SessionError, SessionStore } from '../session/sessionStore.js';
import { cleanText, outputModeFor } from '../text/terminalText.js';
import type { CliArgs } from './args.js';
import { modelCacheDir } from '../paths.js';
import { createChatEngine } from './chatEngine.js';
import { flagSettings } from './flagSettings.js';
import { runOneShot } from './oneShot.js';
import { exportSession, listSessions } from './sessionCommands.js';

/** Everything past --help/--version: settings, sessions, one-shot or the chat UI. */
export async function runCommand(args: CliArgs): Promise<number> {
  const fail = (message: string, code = 1): number => {
    process.stderr.write(`parley: ${cleanText(message, outputModeFor(process.stderr, false))}\n`);
    return code;
  };
  const flags = flagSettings(args);
  if (flags.errors.length > 0) return fail(flags.errors[0]!, 2);

  let stored;
  try {
    stored = openSettings({ env: process.env }).stored();
  } catch (err) {
    if (err instanceof SettingsError) return fail(err.message);
    throw err;
  }
  const sessionsDir = resolveSessionsDir({ flag: args.sessionsDir ?? null, env: process.env, setting: stored.sessionsDir ?? null });
  const store = new SessionStore(sessionsDir.dir);

  try {
    if (args.listSessions) return await listSessions(store, process.stdout, args.raw);
    if (args.export !== undefined) {
      const { values } = effectiveSettings({ flags: flags.values, settings: stored });
      return await exportSession(store, args.export, args.out, values, process.stdout, process.stderr, args.raw);
    }

    let prompt = args.prompt;
    if (prompt === undefined && !process.stdin.isTTY) prompt = (await text(process.stdin)).trim();
    if (prompt !== undefined) {
      if (prompt.trim() === '') return fail('the prompt is empty', 2);
      const engine = createChatEngine(args, modelCacheDir());
      const controller = new AbortController();
      // First Ctrl+C stops the reply (the partial text is kept and saved); a second one quits.
      const onSigint = (): void => {
        if (controller.signal.aborted) process.exit(130);
        controller.abort();
      };
      process.on('SIGINT', onSigint);
      try {
        return await runOneShot({
          engine,
          prompt,
          flags: flags.values,
          stored,
          offline: args.offline,
          ...(args.session !== undefined ? { session: { name: args.session, store } } : {}),
          ...(args.system !== undefined ? { system: args.system } : {}),
          raw: args.raw,
          stdout: process.stdout,
          stderr: process.stderr,
          signal: controller.signal,
        });
      } finally {
        process.off('SIGINT', onSigint);
        await engine.dispose();
      }
    }

    // React's development build checks every render twice over; the chat runs the production one.
    process.env['NODE_ENV'] ??= 'production';
    // Ink reads CI / CONTINUOUS_INTEGRATION once, at import, and then draws only the final frame:
    // no live reply, no input box. A person at a terminal gets the interactive UI wherever they are.
    if (process.stdout.isTTY && process.stdin.isTTY) {
      delete process.env['CI'];
      delete process.env['CONTINUOUS_INTEGRATION'];
    }
    const { runChatApp } = await import('../ui/runChatApp.js');
    const engine = createChatEngine(args, modelCacheDir());
    try {
      return await runChatApp({
        args,
        flags: flags.values,
        stored,
        store,
        sessionsDirSource: sessionsDir.source,
        cacheDir: modelCacheDir(),
        engine,
      });
    } finally {
      await engine.dispose();
    }
  } catch (err) {
    if (err instanceof SessionError) return fail(err.message);
    throw err;
  }
}
