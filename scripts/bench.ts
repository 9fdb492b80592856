// npm run bench: speed of the real worker engine on a GPT-2-small-shaped model (random weights),
// and the rest of the figures in the README's Speed section: prefix cache, UI thread, start-up, memory, q8 vs fp32.
// Prints progress on stderr and one JSON object as the last line of stdout.
import os from 'node:os';
import path from 'node:path';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { DEFAULT_SETTINGS } from '../src/settings/settingsSchema.js';
import { gpt2SmallDir } from '../test/helpers/fixtures.js';
import { measureBandwidth } from './bandwidth.js';
import { benchEngine } from './benchEngine.js';
import { log, round } from './benchStats.js';
import { conversationTtft, type ConversationResult } from './conversationBench.js';
import { decodeCases, decodeRatios, type DecodeCase, type Shape } from './decodeBench.js';
import { runDtypeStudy } from './dtypeStudy.js';
import { englishSentences } from './englishText.js';
import { followUpTtft, type FollowUpResult } from './followUpBench.js';
import { peakRss, type PeakRss } from './peakRss.js';
import { uiStartup, versionTimes } from './startupBench.js';
import { uiMainThreadCpu } from './uiCpuBench.js';
import { errorMessage } from '../src/errors.js';

const DTYPES = ['fp32', 'q8', 'q4'] as const;
/** The chat figures use the dtype a chat gets by default. */
const CHAT_DTYPE = DEFAULT_SETTINGS.dtype;
/** The UI figure uses q8: less engine work per token, so the harder case for the ratio. */
const UI_DTYPE = 'q8';

async function main(): Promise<void> {
  log('preparing the GPT-2-small-shaped model (generated once into .cache/models)…');
  const dir = await gpt2SmallDir(true);
  const shape = JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf8')) as Shape;
  const sentences = await englishSentences();
  const cacheDir = await mkdtemp(path.join(os.tmpdir(), 'parley-bench-'));
  // The machine is shared: the load around the run says how far to trust its figures.
  const loadAtStart = os.loadavg()[0]!;
  try {
    log('measuring memory bandwidth (2 threads, 2 GiB)…');
    // Measured again at the end and the higher figure kept: another process's burst at one
    // moment must not make the limit look low and the decode fractions look high.
    let bandwidthGBs = await measureBandwidth(2);
    log(`bandwidth ${bandwidthGBs.toFixed(1)} GB/s`);

    const cases: DecodeCase[] = [];
    const decodeEngine = benchEngine(cacheDir, false);
    try {
      for (const dtype of DTYPES) cases.push(...(await decodeCases(decodeEngine, dir, shape, dtype, bandwidthGBs)));
    } finally {
      await decodeEngine.dispose();
    }

    const chatFigures = async (prefixCache: boolean): Promise<{ followUp: FollowUpResult; conversation: ConversationResult }> => {
      log(`follow-up and 40-turn conversation, ${CHAT_DTYPE}, prefix cache ${prefixCache ? 'on' : 'off'}…`);
      const engine = benchEngine(cacheDir, prefixCache);
      try {
        await engine.load(dir, { dtype: CHAT_DTYPE, offline: true });
        const followUp = await followUpTtft(engine, sentences);
        log(`follow-up ${JSON.stringify(followUp)}`);
        const conversation = await conversationTtft(engine, sentences);
        log(`conversation mean TTFT ${conversation.meanTtftMs.toFixed(1)} ms, ${conversation.slides} slides`);
        return { followUp, conversation };
      } finally {
        await engine.dispose();
      }
    };
    const withC = await chatFigures(true);
    const without = await chatFigures(false);

    log(`UI thread while 500 tokens stream into a 300-turn transcript as Markdown (${UI_DTYPE})…`);
    const ui = await uiMainThreadCpu(dir, UI_DTYPE, sentences, true);
    log(JSON.stringify(ui));

    log('start-up…');
    const version = await versionTimes();
    const startup = await uiStartup(dir);
    log(`--version ${JSON.stringify(version)}, UI ${JSON.stringify(startup)}`);

    log('peak RSS per dtype (a child process each)…');
    const rss: PeakRss[] = [];
    for (const dtype of DTYPES) rss.push(await peakRss(dir, dtype));
    log(JSON.stringify(rss));

    log('q8 and q4 against fp32 logits over 1,000 positions of English text…');
    const study = await runDtypeStudy(dir);
    const studyQ4 = await runDtypeStudy(dir, 1000, 'q4');
    log(JSON.stringify({ q8: study, q4: studyQ4 }));

    const bandwidthAtEnd = await measureBandwidth(2);
    log(`bandwidth at the end ${bandwidthAtEnd.toFixed(1)} GB/s`);
    if (bandwidthAtEnd > bandwidthGBs) {
      for (const c of cases) {
        c.limitTokPerS = round((bandwidthAtEnd * 1e9) / (c.weightBytesPerToken + c.kvBytesPerToken));
        c.fractionOfLimit = round(c.decodeTokPerS / c.limitTokPerS, 3);
      }
      bandwidthGBs = bandwidthAtEnd;
    }

    const byDtype = <T>(f: (dtype: (typeof DTYPES)[number]) => T): Record<(typeof DTYPES)[number], T> =>
      Object.fromEntries(DTYPES.map((d) => [d, f(d)])) as Record<(typeof DTYPES)[number], T>;
    console.log(
      JSON.stringify({
        cases,
        bandwidthGBs: round(bandwidthGBs),
        node: process.version,
        cpu: os.cpus()[0]?.model ?? 'unknown',
        loadAverage1m: { start: round(loadAtStart, 2), end: round(os.loadavg()[0]!, 2) },
        decodeRatio896to16: decodeRatios(cases),
        chatDtype: CHAT_DTYPE,
        followUpTtftMs: round(withC.followUp.ttftMs),
        fullPrefillTtftMs: round(without.followUp.ttftMs),
        followUpPromptTokens: withC.followUp.promptTokens,
        followUpReusedTokens: withC.followUp.reusedTokens,
        conversationMeanTtftMs: {
          withCache: round(withC.conversation.meanTtftMs),
          withoutCache: round(without.conversation.meanTtftMs),
        },
        conversationSlides: withC.conversation.slides,
        conversationMeanPromptTokens: round(withC.conversation.meanPromptTokens),
        conversationRepliesIdentical: withC.conversation.replies.every((r, i) => r === without.conversation.replies[i]),
        uiMainThreadCpuFraction: round(ui.fraction, 3),
        ui: {
          dtype: UI_DTYPE,
          markdown: true,
          mainCpuMs: round(ui.mainCpuMs),
          /** mainCpuMs / wallMs: the share of one core the UI thread used. */
          mainShareOfCore: round(ui.mainCpuMs / ui.wallMs, 4),
          engineCpuMs: round(ui.engineCpuMs),
          tokens: ui.tokens,
          wallMs: round(ui.wallMs),
          bytesWritten: ui.bytesWritten,
        },
        versionMs: round(version.versionMs),
        nodeBootMs: round(version.nodeBootMs),
        uiInteractiveMs: startup ? round(startup.interactiveMs) : null,
        uiModelReadyMs: startup ? round(startup.modelReadyMs) : null,
        peakRssMB: byDtype((d) => rss.find((r) => r.dtype === d)!.peakRssMB),
        weightMB: byDtype((d) => rss.find((r) => r.dtype === d)!.weightMB),
        dtypeStudy: { top1Agreement: round(study.top1Agreement, 4), meanKl: +study.meanKl.toPrecision(3), positions: study.positions },
        dtypeStudyQ4: {
          top1Agreement: round(studyQ4.top1Agreement, 4),
          meanKl: +studyQ4.meanKl.toPrecision(3),
          positions: studyQ4.positions,
        },
      }),
    );
  } finally {
    await rm(cacheDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(errorMessage(err));
  process.exit(1);
});
