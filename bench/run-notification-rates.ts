/**
 * `npx tsx bench/run-notification-rates.ts [--write] [--tiny]`: measures only §7a, the default
 * stack's notification rates, and with `--write` replaces them in `bench/results.json` and §7a
 * of `bench/results.md` (the rest of the last full run is kept; §7's batch figures are reused).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fleetRateRows, FLEET_ASSUMPTIONS, type FleetBatchFigures } from './fleet.js';
import { measureNotificationRates, renderNotificationRates, spliceNotificationRateSection } from './notification-rate.js';

const args = new Set(process.argv.slice(2));
const json = join(import.meta.dirname, 'results.json');
const md = join(import.meta.dirname, 'results.md');
const last = JSON.parse(readFileSync(json, 'utf8')) as { fleet: { measured: FleetBatchFigures } } & Record<string, unknown>;
const notificationRates = await measureNotificationRates(args.has('--tiny') ? { nodes: 20, ticks: 100 } : {});
const fleetRates = fleetRateRows(notificationRates.mixes, last.fleet.measured);
const section = renderNotificationRates(notificationRates, fleetRates, FLEET_ASSUMPTIONS.fractionWatched);
if (args.has('--write')) {
  writeFileSync(json, JSON.stringify({ ...last, notificationRates, fleetRates, notificationRatesMeasuredAt: new Date().toISOString() }, null, 2) + '\n');
  writeFileSync(md, spliceNotificationRateSection(readFileSync(md, 'utf8'), section));
  process.stderr.write('[bench] replaced §7a in bench/results.md and the notification rates in bench/results.json\n');
}
process.stdout.write(section.join('\n') + '\n');
