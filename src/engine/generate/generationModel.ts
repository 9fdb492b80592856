import type { ModelInfo } from '../protocol.js';
import type { DecoderSession } from '../decode/decoderSession.js';
import type { SequenceModel } from './sequence.js';

/** What the generation loops need of a loaded model (load/modelLoader.ts's LoadedModel is one). */
export interface GenerationModel extends SequenceModel {
  info: ModelInfo;
  tokenizer: SequenceModel['tokenizer'] & { encode(texts: string[]): Promise<number[][]> };
  decoder: DecoderSession;
}
