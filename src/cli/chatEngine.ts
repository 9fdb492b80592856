import { createEngine } from '../engine/worker/workerEngineClient.js';
import { RoutingEngineClient } from '../engine/remote/routingEngineClient.js';
import type { CliArgs } from './args.js';

/**
 * The engine of the chat and of one-shot mode: the worker for local models, an
 * OpenAI-compatible server for `endpoint:` refs. The key comes from --api-key,
 * $PARLEY_API_KEY or $OPENAI_API_KEY and stays in memory: it is never in a ref, a session
 * or the settings file.
 */
export function createChatEngine(
  args: Pick<CliArgs, 'endpoint' | 'apiKey' | 'context'>,
  cacheDir: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): RoutingEngineClient {
  const apiKey = args.apiKey || env['PARLEY_API_KEY'] || env['OPENAI_API_KEY'] || null;
  return new RoutingEngineClient({
    createLocal: () => createEngine({ cacheDir }),
    endpoint: args.endpoint ?? null,
    apiKey,
    contextLength: args.context === undefined ? null : Number(args.context),
  });
}
