// What the status bar shows, as the chat's parts know it.
import type { Dtype, ModelInfo, SamplingParams } from '../../engine/protocol.js';

export interface StatusInfo {
  /** Short model label, or null before any model is loaded. */
  model: string | null;
  dtype: Dtype | null;
  /**
   * The server's host when the model runs on one (--endpoint): shown in place of the dtype,
   * which only a model in this process has.
   */
  endpointHost?: string | null;
  randomWeights: boolean;
  /** What the model is, when its folder says (the demo model). */
  description?: string | null;
  tokensUsed: number | null;
  contextLength: number | null;
  params: SamplingParams;
  sessionName: string;
  tokensPerSecond: number | null;
  turnsOutOfContext: number;
  /** The session's last save failed. */
  unsaved?: boolean;
}

/** Before any model is loaded or any context counted. */
export function emptyStatus(sessionName: string, params: SamplingParams): StatusInfo {
  return {
    model: null,
    dtype: null,
    randomWeights: false,
    tokensUsed: null,
    contextLength: null,
    params,
    sessionName,
    tokensPerSecond: null,
    turnsOutOfContext: 0,
  };
}

/** What the chat's parts report beside the model in use. */
export type ChatCounts = Pick<StatusInfo, 'tokensUsed' | 'params' | 'sessionName' | 'tokensPerSecond' | 'turnsOutOfContext' | 'unsaved'>;

/** The status of a chat whose model in use is `model`, shown by `label`. */
export function statusInfo(model: ModelInfo | null, label: string | null, counts: ChatCounts): StatusInfo {
  return {
    // On a server the name it serves the model by says it all; the host goes beside it.
    model: model?.endpoint ? model.endpoint.name : label,
    dtype: model?.dtype ?? null,
    endpointHost: model?.endpoint ? new URL(model.endpoint.url).host : null,
    randomWeights: model?.randomWeights ?? false,
    description: model?.description ?? null,
    tokensUsed: counts.tokensUsed,
    contextLength: model?.contextLength ?? null,
    params: counts.params,
    sessionName: counts.sessionName,
    tokensPerSecond: counts.tokensPerSecond,
    turnsOutOfContext: counts.turnsOutOfContext,
    unsaved: counts.unsaved,
  };
}
