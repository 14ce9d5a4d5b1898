/**
 * Runs in a child `node --expose-gc` (bundled by `memory.ts`): the heap a large batch reaches,
 * and the heap after each of many batches handled by one warm notifier (with a full GC before
 * each reading). Prints one `BENCH_RESULT {json}` line.
 */
import v8 from 'node:v8';
import { CONTEXT, benchNotifier, sunk } from './harness.js';
import { REALISTIC_MIX, streamEvent } from './record-mix.js';

export interface MemoryChildResult {
  readonly peak: {
    readonly records: number;
    readonly eventHeapBytes: number;
    readonly heapBeforeBytes: number;
    readonly peakHeapBytes: number;
    readonly peakAboveEventBytes: number;
    readonly heapAfterGcBytes: number;
    readonly maxRssBytes: number;
  };
  readonly growth: {
    readonly records: number;
    readonly heapAfterBatchBytes: readonly number[];
    /** Of the heap after each batch, V8's code space (compiled code: grows while the JIT warms up). */
    readonly codeSpaceAfterBatchBytes: readonly number[];
  };
}

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');
const [fixtureDir, peakArg, batchesArg, recordsArg] = process.argv.slice(2);
if (fixtureDir === undefined) throw new Error('usage: memory-child <fixtureDir> <peakRecords> <batches> <recordsPerBatch>');
const peakRecords = Number(peakArg);
const batches = Number(batchesArg);
const growthRecords = Number(recordsArg);
const heap = () => process.memoryUsage().heapUsed;

const { handle, transport } = benchNotifier();
// Warm up: lazy SDK and Powertools state, compiled code.
const warm = streamEvent(100, REALISTIC_MIX, { fixtureDir, seed: 7 });
for (let i = 0; i < 3; i++) await sunk(() => handle(warm, CONTEXT));

gc();
const heapBefore = heap();
const event = streamEvent(peakRecords, REALISTIC_MIX, { fixtureDir });
gc();
const withEvent = heap();
let peak = withEvent;
transport.onRequest = () => {
  const h = heap();
  if (h > peak) peak = h;
};
await sunk(() => handle(event, CONTEXT));
peak = Math.max(peak, heap());
transport.onRequest = undefined;
gc();
const afterGc = heap();

const growthEvent = streamEvent(growthRecords, REALISTIC_MIX, { fixtureDir, seed: 11 });
const heaps: number[] = [];
const code: number[] = [];
for (let i = 0; i < batches; i++) {
  transport.reset();
  await sunk(() => handle(growthEvent, CONTEXT));
  gc();
  heaps.push(heap());
  code.push(v8.getHeapSpaceStatistics().find((sp) => sp.space_name === 'code_space')?.space_used_size ?? 0);
}

const result: MemoryChildResult = {
  peak: {
    records: peakRecords,
    eventHeapBytes: withEvent - heapBefore,
    heapBeforeBytes: heapBefore,
    peakHeapBytes: peak,
    peakAboveEventBytes: peak - withEvent,
    heapAfterGcBytes: afterGc,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
  },
  growth: { records: growthRecords, heapAfterBatchBytes: heaps, codeSpaceAfterBatchBytes: code },
};
process.stdout.write(`\nBENCH_RESULT ${JSON.stringify(result)}\n`);
