/**
 * `npm run soak`: the long fault scenarios, each on its own local pipeline (DynamoDB Local,
 * the poller, the real notifier run as Lambda runs it, the local bus and quarantine queue
 * with faults injected), each checked with the invariants of `test/faults/invariants.ts`.
 * Prints one table row per scenario and exits 1 when anything was lost or any invariant broke.
 *
 *   npm run soak -- [--only NAME,NAME] [--fleet-seconds 150] [--seed 1]
 */
import '../local/quiet-warnings.js';
import { parseArgs } from 'node:util';
import { describeReport } from '../test/faults/invariants.js';
import type { SoakOutcome, SoakScenario } from './scenario.js';
import { amqpBroker } from './amqp-broker.js';
import { badInput } from './bad-input.js';
import { busOutageRedrive } from './bus-outage-redrive.js';
import { burst } from './burst.js';
import { crashes } from './crashes.js';
import { fleet } from './fleet.js';
import { gapAndRepair } from './gap-and-repair.js';
import { interruptedResync } from './interrupted-resync.js';
import { missingBus } from './missing-bus.js';
import { network } from './network.js';
import { quarantineOutage } from './quarantine-outage.js';
import { throttling } from './throttling.js';
import { invocationThrottling } from './invocation-throttling.js';
import { resolution } from './resolution.js';
import { stalledMapping } from './stalled-mapping.js';

const SCENARIOS: readonly SoakScenario[] = [burst, throttling, invocationThrottling, network, crashes, quarantineOutage, badInput, missingBus, fleet, gapAndRepair, interruptedResync, busOutageRedrive, resolution, stalledMapping, amqpBroker];

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: { only: { type: 'string' }, 'fleet-seconds': { type: 'string' }, seed: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  strict: true,
});
if (values.help) {
  process.stdout.write(`usage: npm run soak -- [--only NAME,NAME] [--fleet-seconds 150] [--seed 1]\nscenarios:\n${SCENARIOS.map((s) => `  ${s.name.padEnd(16)} ${s.what}`).join('\n')}\n`);
  process.exit(0);
}
const only = values.only?.split(',').map((s) => s.trim().toLowerCase());
const chosen = only === undefined ? SCENARIOS : SCENARIOS.filter((s) => only.some((o) => s.name.toLowerCase().startsWith(o)));
if (chosen.length === 0) {
  process.stderr.write(`no scenario matches --only ${values.only}\n`);
  process.exit(2);
}
const fleetSeconds = Number(values['fleet-seconds'] ?? 150);
const seed = Number(values.seed ?? 1);
const log = (line: string) => process.stderr.write(`[soak] ${line}\n`);

interface Row {
  readonly scenario: SoakScenario;
  readonly outcome?: SoakOutcome;
  readonly error?: unknown;
  readonly seconds: number;
}

const rows: Row[] = [];
const started = Date.now();
for (const scenario of chosen) {
  log(`${scenario.name}: ${scenario.what}`);
  const t0 = Date.now();
  try {
    const outcome = await scenario.run({ seed, fleetSeconds, log });
    const seconds = (Date.now() - t0) / 1000;
    rows.push({ scenario, outcome, seconds });
    const r = outcome.report;
    log(`${scenario.name}: ${r.lost === 0 && r.violations.length === 0 ? 'ok' : 'FAILED'} in ${seconds.toFixed(0)} s`);
    if (r.violations.length > 0) process.stderr.write(describeReport(r, 30) + '\n');
  } catch (error) {
    rows.push({ scenario, error, seconds: (Date.now() - t0) / 1000 });
    log(`${scenario.name}: ERROR ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }
}

const header = ['scenario', 'writes', 'stream records', 'notifications expected', 'delivered', 'duplicates', 'quarantined', 'on-failure', 'redriven', 'lost', 'invariants', 'seconds'];
const table = rows.map(({ scenario, outcome, error, seconds }) => {
  if (outcome === undefined) return [scenario.name, '-', '-', '-', '-', '-', '-', '-', '-', '?', `error: ${error instanceof Error ? error.message : String(error)}`, seconds.toFixed(0)];
  const r = outcome.report;
  return [
    scenario.name,
    String(r.writes),
    String(r.records),
    String(r.expected),
    String(r.delivered),
    String(r.duplicates),
    `${r.quarantined}/${r.expectedQuarantined}`,
    String(r.onFailure),
    String(outcome.redriven ?? 0),
    String(r.lost),
    r.violations.length === 0 ? 'hold' : `${r.violations.length} broken`,
    seconds.toFixed(0),
  ];
});
const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
const out = [line(header), line(header.map((h, i) => (i === 0 || h === 'invariants' ? '---' : '---:'))), ...table.map(line)];
process.stdout.write(out.join('\n') + '\n\n');
for (const { scenario, outcome } of rows) {
  if (outcome === undefined) continue;
  process.stdout.write(`- ${scenario.name}: ${scenario.what}. Faults: ${outcome.faults || 'none'}.${outcome.notes.length > 0 ? ' ' + outcome.notes.join('; ') + '.' : ''}\n`);
}
process.stdout.write(`\nseed ${seed}, ${Math.round((Date.now() - started) / 1000)} s in total\n`);

const failed = rows.some((r) => r.outcome === undefined || r.outcome.report.lost > 0 || r.outcome.report.violations.length > 0);
process.exit(failed ? 1 : 0);
