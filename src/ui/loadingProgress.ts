// Folds the engine's load progress events into what the loading panel shows.
import type { LoadProgress } from '../engine/protocol.js';
import { convertingText } from '../cli/loadProgressLine.js';
import type { LoadingState } from './ModelLoading.js';

export function startLoading(modelRef: string): LoadingState {
  return { modelRef, downloads: [], loadingFile: null };
}

export function withProgress(state: LoadingState, progress: LoadProgress): LoadingState {
  if (progress.kind === 'loading') return { ...state, loadingFile: progress.file ?? state.loadingFile };
  if (progress.kind === 'converting') return { ...state, loadingFile: convertingText(progress) };
  const { file, loaded, total, bytesPerSecond } = progress;
  const download = { file, loaded, total, ...(bytesPerSecond === undefined ? {} : { bytesPerSecond }) };
  const known = state.downloads.some((d) => d.file === progress.file);
  const downloads = known ? state.downloads.map((d) => (d.file === progress.file ? download : d)) : [...state.downloads, download];
  return { ...state, downloads };
}
