/**
 * Measurement 6: memory. In a fresh `node --expose-gc` child (the child script bundled with
 * esbuild, so the child runs plain Node as the Lambda does): the heap a 10,000-record batch
 * reaches, and whether the heap grows with the number of batches one warm notifier handles
 * (heap after a full GC, batch 5 against the last).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { round } from './harness.js';
import type { MemoryChildResult } from './memory-child.js';
import { DEFAULT_FIXTURE_DIR } from './record-mix.js';

export interface MemoryResult {
  readonly peak: MemoryChildResult['peak'] & { readonly peakAboveEventMiB: number; readonly maxRssMiB: number };
  readonly growth: {
    readonly records: number;
    readonly batches: number;
    readonly compareBatch: number;
    readonly heapAfterCompareBatchBytes: number;
    readonly heapAfterLastBatchBytes: number;
    readonly growthBytes: number;
    /** Of the growth, V8's code space (the JIT still compiling). */
    readonly codeSpaceGrowthBytes: number;
    /** Least-squares slope of the heap after each batch, from the compare batch on, bytes per batch. */
    readonly slopeBytesPerBatch: number;
    /** The same over the second half of the batches only (after the warm-up has mostly settled). */
    readonly secondHalfSlopeBytesPerBatch: number;
    readonly heapAfterBatchBytes: readonly number[];
  };
}

function slope(ys: readonly number[]): number {
  const n = ys.length;
  if (n < 2) return 0;
  const mx = (n - 1) / 2;
  const my = ys.reduce((s, y) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  ys.forEach((y, x) => {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  });
  return num / den;
}

export async function measureMemory(opts: { peakRecords: number; batches: number; recordsPerBatch: number }): Promise<MemoryResult> {
  const dir = mkdtempSync(join(tmpdir(), 'notifier-bench-mem-'));
  try {
    const script = join(dir, 'memory-child.mjs');
    await build({
      entryPoints: [resolve(import.meta.dirname, 'memory-child.ts')],
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      mainFields: ['module', 'main'],
      outfile: script,
      logLevel: 'silent',
    });
    const args = ['--expose-gc', '--no-warnings', script, DEFAULT_FIXTURE_DIR, String(opts.peakRecords), String(opts.batches), String(opts.recordsPerBatch)];
    const child: MemoryChildResult = await new Promise((ok, fail) => {
      const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      p.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
      p.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
      p.on('error', fail);
      p.on('close', (code) => {
        const line = out.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
        if (code !== 0 || line === undefined) fail(new Error(`memory child exited ${code}: ${err.slice(0, 2000)}`));
        else ok(JSON.parse(line.slice('BENCH_RESULT '.length)) as MemoryChildResult);
      });
    });
    const heaps = child.growth.heapAfterBatchBytes;
    const compareBatch = Math.min(5, heaps.length);
    const first = heaps[compareBatch - 1]!;
    const last = heaps[heaps.length - 1]!;
    const code = child.growth.codeSpaceAfterBatchBytes;
    const MiB = 1024 * 1024;
    return {
      peak: { ...child.peak, peakAboveEventMiB: round(child.peak.peakAboveEventBytes / MiB, 1), maxRssMiB: round(child.peak.maxRssBytes / MiB, 1) },
      growth: {
        records: child.growth.records,
        batches: heaps.length,
        compareBatch,
        heapAfterCompareBatchBytes: first,
        heapAfterLastBatchBytes: last,
        growthBytes: last - first,
        codeSpaceGrowthBytes: code[code.length - 1]! - code[compareBatch - 1]!,
        slopeBytesPerBatch: Math.round(slope(heaps.slice(compareBatch - 1))),
        secondHalfSlopeBytesPerBatch: Math.round(slope(heaps.slice(Math.floor(heaps.length / 2)))),
        heapAfterBatchBytes: heaps,
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
