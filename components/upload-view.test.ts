import { describe, expect, it } from 'vitest';
import {
  formatBytes,
  percent,
  plural,
  pipelineFraction,
  stageFraction,
  stageState,
  uploadStatus,
  type UploadView,
} from './upload-view';

const stages = (done: number[], total: number | null) =>
  ['parse', 'identify', 'merge', 'analyze', 'engage'].map((stage, i) => ({
    stage,
    done: done[i] ?? 0,
    total,
  }));

describe('upload status', () => {
  const base = { done: true, failed: 0, error: null, totalChunks: 3 };
  it('is processing until done, then done, with problems, or failed', () => {
    expect(uploadStatus({ ...base, done: false })).toBe('processing');
    expect(uploadStatus(base)).toBe('done');
    expect(uploadStatus({ ...base, failed: 1 })).toBe('done-with-problems');
    expect(uploadStatus({ ...base, error: 'input failed after 10 records' })).toBe('done-with-problems');
    expect(uploadStatus({ ...base, failed: 3 })).toBe('failed');
    // An empty upload that is done is simply done.
    expect(uploadStatus({ ...base, totalChunks: 0 })).toBe('done');
  });
});

describe('stage progress', () => {
  it('is pending, active or complete', () => {
    expect(stageState({ done: 0, total: null }, false)).toBe('pending');
    expect(stageState({ done: 1, total: null }, false)).toBe('active');
    expect(stageState({ done: 1, total: 3 }, false)).toBe('active');
    expect(stageState({ done: 3, total: 3 }, false)).toBe('complete');
    expect(stageState({ done: 0, total: 0 }, false)).toBe('complete');
    // Failed chunks never reach the later stages: once the upload is done those stay incomplete.
    expect(stageState({ done: 2, total: 3 }, true)).toBe('incomplete');
    expect(stageState({ done: 3, total: 3 }, true)).toBe('complete');
  });

  it('computes fractions per stage and for the pipeline', () => {
    expect(stageFraction({ done: 1, total: 4 })).toBe(0.25);
    expect(stageFraction({ done: 5, total: null })).toBe(0);
    expect(stageFraction({ done: 0, total: 0 })).toBe(1);
    const u = { stages: stages([4, 4, 2, 0, 0], 4), done: false } as Pick<UploadView, 'stages' | 'done'>;
    expect(pipelineFraction(u)).toBeCloseTo(0.5);
    expect(pipelineFraction({ ...u, done: true })).toBe(1);
  });
});

describe('formatting', () => {
  it('formats bytes and percentages', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(250 * 1024 * 1024)).toBe('250 MiB');
    expect(percent(0.999)).toBe('99%');
    expect(percent(1)).toBe('100%');
    expect(percent(-1)).toBe('0%');
    expect(plural(1, 'chunk')).toBe('1 chunk');
    expect(plural(2000, 'chunk')).toBe('2,000 chunks');
  });
});
