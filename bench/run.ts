/**
 * `npm run bench`: runs every measurement once and writes `bench/results.json` and
 * `bench/results.md`. `npm run bench -- --tiny` runs the smoke-sized input instead (and
 * writes nothing unless `--write` is given too). `npm run bench -- --capacity` runs only the
 * capacity section (§7b) and, with `--write`, replaces it in `bench/results.md` and `results.json`;
 * `--cold-start-global-endpoint` likewise for §5b (the global endpoint option's cold start).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runBenchmarks } from './run-benchmarks.js';
import { renderMarkdown } from './results.js';
import { capacityMixesFrom, measureCapacity, renderCapacity, spliceCapacitySection } from './capacity.js';
import type { MixRate } from './fleet.js';
import { measureGlobalEndpointColdStart, renderGlobalEndpointColdStart, spliceGlobalEndpointColdStartSection } from './cold-start-global-endpoint.js';

const args = new Set(process.argv.slice(2));
const tiny = args.has('--tiny');
const write = !tiny || args.has('--write');

/** One section of the results measured alone. */
interface SectionAlone<T> {
  /** Its number in results.md, for the log line. */
  readonly label: string;
  readonly measure: () => Promise<T>;
  readonly render: (measured: T) => string[];
  /** results.md with this section in place of its old one. */
  readonly splice: (markdown: string, section: readonly string[]) => string;
  /** What results.json holds of it, merged over the file's fields. */
  readonly json: (measured: T) => Record<string, unknown>;
}

/**
 * Measures one section, prints it and, with `--write`, replaces it in results.md and its fields
 * in results.json (the rest of both files stays as the last whole run left it); then exits.
 */
async function runSectionAlone<T>(s: SectionAlone<T>): Promise<never> {
  const measured = await s.measure();
  const section = s.render(measured);
  if (args.has('--write')) {
    const md = join(import.meta.dirname, 'results.md');
    const json = join(import.meta.dirname, 'results.json');
    writeFileSync(md, s.splice(readFileSync(md, 'utf8'), section));
    const fields = s.json(measured);
    const results = JSON.parse(readFileSync(json, 'utf8')) as Record<string, unknown>;
    writeFileSync(json, JSON.stringify({ ...results, ...fields }, null, 2) + '\n');
    process.stderr.write(`[bench] replaced ${s.label} in bench/results.md and ${Object.keys(fields).join(', ')} in bench/results.json\n`);
  }
  process.stdout.write(section.join('\n') + '\n');
  process.exit(0);
}

if (args.has('--capacity')) {
  // The capacity model alone: one measured batch per mix, then arithmetic (seconds, not minutes),
  // at the notification rates of the last §7a in results.json when there are any.
  const last = JSON.parse(readFileSync(join(import.meta.dirname, 'results.json'), 'utf8')) as { notificationRates?: { mixes: readonly MixRate[] } };
  await runSectionAlone({
    label: '§7b',
    measure: () => measureCapacity({ tiny, ...(last.notificationRates === undefined ? {} : { mixes: capacityMixesFrom(last.notificationRates.mixes) }) }),
    render: renderCapacity,
    splice: spliceCapacitySection,
    json: (capacity) => ({ capacity, capacityMeasuredAt: new Date().toISOString() }),
  });
}

if (args.has('--cold-start-global-endpoint')) {
  // Three bundles, a few dozen fresh processes: seconds, not the whole run's minutes.
  await runSectionAlone({
    label: '§5b',
    measure: () => measureGlobalEndpointColdStart({ runs: tiny ? 1 : 21 }),
    render: renderGlobalEndpointColdStart,
    splice: spliceGlobalEndpointColdStartSection,
    json: (coldStartGlobalEndpoint) => ({ coldStartGlobalEndpoint }),
  });
}

const results = await runBenchmarks({ tiny, log: (line) => process.stderr.write(`[bench] ${line}\n`) });
const markdown = renderMarkdown(results);
if (write) {
  writeFileSync(join(import.meta.dirname, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  writeFileSync(join(import.meta.dirname, 'results.md'), markdown);
  process.stderr.write(`[bench] wrote bench/results.json and bench/results.md (${results.durationSeconds} s)\n`);
}
process.stdout.write(markdown + '\n');
