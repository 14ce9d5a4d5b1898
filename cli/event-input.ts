/**
 * What `test-pattern` accepts as the event, beside an event as EventBridge delivers it: what
 * users already have in hand. A `render` output line (a PutEvents entry: `Source`,
 * `DetailType`, `Detail` as a JSON string) becomes the event EventBridge would deliver for
 * it; a line of `.local/events.jsonl` (`{rule, target, deliveredAt, event}`) gives its event.
 */
import * as z from 'zod/mini';
import { LOCAL_AWS } from '../local/local-aws.js';

/** A render line: the PutEvents entry (render.ts's renderEntry). */
const RenderedEntry = z.object({ Source: z.string(), DetailType: z.string(), Detail: z.string(), Time: z.optional(z.string()) });

/** A delivery line of the local bus's events.jsonl (local/targets.ts). */
const DeliveryLine = z.object({ rule: z.string(), target: z.string(), event: z.record(z.string(), z.unknown()) });

/** The event to test, and where it came from when it was not an event already (for one line on stderr). */
export interface EventInput {
  readonly event: unknown;
  readonly from?: string;
}

/** The event a value stands for: itself, or the event of a render line or a delivery line. */
export function eventFromInput(value: unknown): EventInput {
  const delivery = DeliveryLine.safeParse(value);
  if (delivery.success) return { event: delivery.data.event, from: `a delivery of rule ${delivery.data.rule} (events.jsonl)` };
  const entry = RenderedEntry.safeParse(value);
  if (!entry.success) return { event: value };
  let detail: unknown;
  try {
    detail = JSON.parse(entry.data.Detail);
  } catch {
    // Left as the string: the envelope check says Detail must be an object.
    return { event: value };
  }
  const messageId = (detail as { message_id?: unknown } | null)?.message_id;
  return {
    event: {
      version: '0',
      // EventBridge gives each event an id of its own; the notification's message_id stands in for it.
      id: typeof messageId === 'string' ? messageId : '00000000-0000-0000-0000-000000000000',
      'detail-type': entry.data.DetailType,
      source: entry.data.Source,
      account: LOCAL_AWS.account,
      time: (entry.data.Time ?? new Date(0).toISOString()).replace(/\.\d{3}Z$/, 'Z'),
      region: LOCAL_AWS.region,
      resources: [],
      detail,
    },
    from: `a PutEvents entry (render's output), tested as delivered in account ${LOCAL_AWS.account}, region ${LOCAL_AWS.region}`,
  };
}
