/**
 * The resync run's control events: the resync tool puts one on the bus when a run starts and
 * one when it ends, with the notifications' `source` and their own detail-type, so a rule on
 * the three Nova detail types (or on `change.origin`) never sees them. A consumer that sweeps
 * (docs/resync-and-indexer.md) reads `refreshed` from the end event: the number of nodes the
 * run refreshed, each of which yields one `compute_node.update` with `change.resync_run` = `run_id`.
 *
 * Version history (bump {@link RESYNC_RUN_EVENT_VERSION} and add a line whenever a key is
 * added or changes type; the fingerprint test insists):
 * - 1: `run_id`, `phase` (`start` | `end`), `started_at`; start: `table`; end: `refreshed`.
 */
import * as z from 'zod/mini';

/** detail-type of the control events (not a Nova event type). */
export const RESYNC_RUN_DETAIL_TYPE = 'hypervisor_notifier.resync_run';
export const RESYNC_RUN_EVENT_VERSION = 1;

/** A run id: a lower-case UUID (the resync tool draws a random one per run). */
export const ResyncRunId = z.string().check(z.regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/));

// Nova's timestamp format, as the notifications' `timestamp`, so a consumer compares the two directly.
const StartedAt = z.string().check(z.regex(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?$/));

export const ResyncRunStart = z.strictObject({
  run_id: ResyncRunId,
  phase: z.literal('start'),
  /** When the run started (before its first marker write), in Nova's timestamp format. */
  started_at: StartedAt,
  /** The compute node table the run refreshes. */
  table: z.string().check(z.minLength(1)),
});

export const ResyncRunEnd = z.strictObject({
  run_id: ResyncRunId,
  phase: z.literal('end'),
  started_at: StartedAt,
  /** Successful marker writes of the run: the number of distinct nodes it sent a resync notification of. */
  refreshed: z.number().check(z.int(), z.gte(0)),
});

/** The `detail` of a `hypervisor_notifier.resync_run` event. */
export const ResyncRunDetail = z.discriminatedUnion('phase', [ResyncRunStart, ResyncRunEnd]);
export type ResyncRunDetail = z.infer<typeof ResyncRunDetail>;
