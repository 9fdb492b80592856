// The UI-thread figure of `npm run bench` alone, with replies shown as Markdown and as plain
// text: node dist/scripts/benchUi.js [markdown|plain|both]. One JSON object on stdout.
// `npm run bench:ui` runs it with --single-threaded-gc, as the chat's command line does.
import os from 'node:os';
import { gpt2SmallDir } from '../test/helpers/fixtures.js';
import { log, round } from './benchStats.js';
import { englishSentences } from './englishText.js';
import type { UiCpuResult } from './uiCpuBench.js';

const summary = (ui: UiCpuResult) => ({
  mainCpuMs: round(ui.mainCpuMs),
  wallMs: round(ui.wallMs),
  /** ui.mainCpuMs / ui.wallMs: the share of one core the UI thread used. */
  mainShareOfCore: round(ui.mainCpuMs / ui.wallMs, 4),
  engineCpuMs: round(ui.engineCpuMs),
  fraction: round(ui.fraction, 3),
  tokens: ui.tokens,
  bytesWritten: ui.bytesWritten,
  inkFrames: ui.inkFrames,
  inkRenderMs: round(ui.inkRenderMs),
});

async function main(): Promise<void> {
  const which = process.argv[2] ?? 'both';
  // The chat runs React's production build (runCommand); the development one checks every
  // render twice over and would be measured instead. React reads NODE_ENV when it loads.
  process.env['NODE_ENV'] ??= 'production';
  const nodeEnv = process.env['NODE_ENV'];
  const singleThreadedGc = process.execArgv.includes('--single-threaded-gc');
  const { uiMainThreadCpu } = await import('./uiCpuBench.js');
  const dir = await gpt2SmallDir(true);
  const sentences = await englishSentences();
  const result: Record<string, unknown> = { nodeEnv, singleThreadedGc, loadAverage1m: { start: round(os.loadavg()[0]!, 2) } };
  for (const markdown of which === 'both' ? [true, false] : [which === 'markdown']) {
    log(`UI thread, replies as ${markdown ? 'Markdown' : 'plain text'}…`);
    result[markdown ? 'markdown' : 'plain'] = summary(await uiMainThreadCpu(dir, 'q8', sentences, markdown));
  }
  (result['loadAverage1m'] as Record<string, number>)['end'] = round(os.loadavg()[0]!, 2);
  console.log(JSON.stringify(result));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
