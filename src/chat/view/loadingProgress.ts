// What the loading panel shows, folded from the engine's load progress events.
import type { LoadProgress } from '../../engine/protocol.js';
import { convertingText } from './loadProgressLine.js';

export interface DownloadState {
  file: string;
  loaded: number;
  total: number;
  bytesPerSecond?: number;
}

export interface LoadingState {
  modelRef: string;
  /** Files being downloaded from the hub, in the order they started. */
  downloads: DownloadState[];
  /** The file being read from disk, once downloads are done. */
  loadingFile: string | null;
}

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
