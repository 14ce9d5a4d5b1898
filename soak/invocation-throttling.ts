/**
 * Rule invocations throttled on the local bus (EventBridge's invocations quota reached): two
 * routes, each a rule matching every notification and delivering to its own queue, under a
 * limit well below what the workload asks. PutEvents is not refused, so the notifier keeps up
 * with the stream; the routes' deliveries fall behind and catch up. Beyond the usual
 * invariants, each route must receive every accepted event exactly once.
 */
import { seededRandom } from '../local/seeded-random.js';
import type { InvariantReport } from '../test/faults/invariants.js';
import { randomWorkload } from '../test/faults/support.js';
import { finish, runtimeSummary, withPipeline, type SoakScenario } from './scenario.js';

/** Rule invocations a second: two routes share it, so about 20 notifications a second get through undelayed (the local pipeline makes more). */
const INVOCATIONS_PER_SECOND = 40;
const ROUTES = ['RouteA', 'RouteB'] as const;
/** How long the routes may take to catch up once the stream is read to its end. */
const CATCH_UP_MS = 600_000;

export const invocationThrottling: SoakScenario = {
  name: 'invocation-throttling',
  what: `rule invocations throttled to ${INVOCATIONS_PER_SECOND}/s on the bus, ${ROUTES.length} routes matching every notification`,
  run: (o) =>
    withPipeline({ batchSize: 100 }, async (f) => {
      const { eventBus: bus, sqs } = f.pipeline;
      for (const name of ROUTES) {
        sqs.createQueue({ QueueName: name });
        bus.putRule({ Name: name, EventPattern: JSON.stringify({ source: [f.pipeline.notifierConfig.eventSource] }) });
        bus.putTargets({ Rule: name, Targets: [{ Id: `${name}Queue`, Arn: sqs.queueArn(name) }] });
      }
      bus.throttleInvocations(INVOCATIONS_PER_SECOND);

      const writes = await randomWorkload(f.writer, { nodes: 300, writes: 2_000, random: seededRandom(o.seed + 7), concurrency: 16 });
      const report = await finish('invocation-throttling', f, writes);
      const streamDoneAt = Date.now();
      const backlogAtStreamEnd = bus.invocations.pending;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timedOut = await Promise.race([
        bus.whenInvocationsDelivered().then(() => false),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), CATCH_UP_MS))),
      ]);
      clearTimeout(timer);
      const lagSeconds = (Date.now() - streamDoneAt) / 1000;

      // Every event the bus accepted reaches each route exactly once.
      const accepted = new Set(f.delivered.map((e) => e.id));
      const problems: string[] = [];
      let missing = 0;
      for (const name of ROUTES) {
        const ids = sqs.messages(name).map((m) => (JSON.parse(m.body) as { id: string }).id);
        const got = new Set(ids);
        const absent = [...accepted].filter((id) => !got.has(id));
        missing += absent.length;
        if (absent.length > 0) problems.push(`LOST route ${name}: ${absent.length} accepted events never delivered (e.g. ${absent.slice(0, 3).join(', ')})`);
        if (ids.length !== got.size) problems.push(`route ${name}: ${ids.length - got.size} events delivered twice`);
        const stray = [...got].filter((id) => !accepted.has(id));
        if (stray.length > 0) problems.push(`route ${name}: ${stray.length} deliveries of events the bus never accepted`);
      }
      if (timedOut) problems.push(`the routes had not caught up ${CATCH_UP_MS / 1000} s after the stream did (${bus.invocations.pending} invocations waiting)`);
      const inv = bus.invocations;
      if (inv.delayed === 0) problems.push('no invocation was delayed: the scenario did not reach the limit');
      const checked: InvariantReport = { ...report, lost: report.lost + missing, violations: [...report.violations, ...problems] };
      return {
        report: checked,
        faults: `${inv.delayed} of ${inv.invocations} rule invocations delayed, the longest ${(inv.maxDelayMs / 1000).toFixed(1)} s ${runtimeSummary(f)}`,
        notes: [
          `${accepted.size} events accepted, each delivered once to each of ${ROUTES.length} routes`,
          `when the notifier had read the stream to its end, ${backlogAtStreamEnd} invocations were still waiting; the routes caught up ${lagSeconds.toFixed(1)} s later (the stream's iterator age did not rise: PutEvents was never refused)`,
        ],
      };
    }),
};
