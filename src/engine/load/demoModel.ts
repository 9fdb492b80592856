// `demo`: the small model shipped with Parley in models/demo (a 3M-parameter GPT-2 trained on
// the King James Bible by tools/train-demo; Parley's own q8 graph), so the first run needs no
// download and shows English. Resolved from this module: dist/src/engine/load/ in a checkout
// and in the installed package alike.
import { fileURLToPath } from 'node:url';

export const DEMO_MODEL_DIR = fileURLToPath(new URL('../../../../models/demo/', import.meta.url));
