// Which dtypes a hub repository has. The hub's API lists a repository's files
// (`/api/models/{id}/revision/{rev}`, field `siblings`), but a mirror or proxy often
// serves only the `resolve` URLs; then each dtype's file is probed with a HEAD request,
// under the current name and the pre-v3 one.
import type { Dtype } from './dtypes.js';
import { DTYPES } from './dtypes.js';
import { hubFileUrl, hubModelInfoUrl } from './hubEndpoint.js';
import { MODEL_FILE_STEMS, dtypesIn, onnxFileFor } from './modelFiles.js';

async function fromApi(endpoint: string, repoId: string, revision: string): Promise<Dtype[] | null> {
  try {
    const response = await fetch(hubModelInfoUrl(endpoint, repoId, revision), { signal: AbortSignal.timeout(10_000) });
    if (!response.ok) {
      await response.body?.cancel();
      return null;
    }
    const body = (await response.json()) as { siblings?: { rfilename?: unknown }[] };
    if (!Array.isArray(body.siblings)) return null;
    return dtypesIn(body.siblings.map((s) => (typeof s.rfilename === 'string' ? s.rfilename : '')));
  } catch {
    return null;
  }
}

async function byProbing(endpoint: string, repoId: string, revision: string): Promise<Dtype[]> {
  const exists = async (file: string): Promise<boolean> => {
    const response = await fetch(hubFileUrl(endpoint, repoId, revision, file), {
      method: 'HEAD',
      redirect: 'follow',
      signal: AbortSignal.timeout(10_000),
    });
    return response.ok;
  };
  const present = await Promise.all(
    DTYPES.map(async (dtype) => {
      const found = await Promise.all(MODEL_FILE_STEMS.map((stem) => exists(onnxFileFor(dtype, stem))));
      return found.some(Boolean);
    }),
  );
  return DTYPES.filter((_, i) => present[i]);
}

export async function listRepoDtypes(endpoint: string, repoId: string, revision = 'main'): Promise<Dtype[]> {
  return (await fromApi(endpoint, repoId, revision)) ?? byProbing(endpoint, repoId, revision);
}
