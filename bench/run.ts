/**
 * `npm run bench`: runs every measurement once and writes `bench/results.json` and
 * `bench/results.md`. `npm run bench -- --tiny` runs the smoke-sized input instead (and
 * writes nothing unless `--write` is given too).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runBenchmarks } from './run-benchmarks.js';
import { renderMarkdown } from './results.js';

const args = new Set(process.argv.slice(2));
const tiny = args.has('--tiny');
const write = !tiny || args.has('--write');

const results = await runBenchmarks({ tiny, log: (line) => process.stderr.write(`[bench] ${line}\n`) });
const markdown = renderMarkdown(results);
if (write) {
  writeFileSync(join(import.meta.dirname, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  writeFileSync(join(import.meta.dirname, 'results.md'), markdown);
  process.stderr.write(`[bench] wrote bench/results.json and bench/results.md (${results.durationSeconds} s)\n`);
}
process.stdout.write(markdown + '\n');
