/**
 * How the local pipeline stands in for a route's SQS queue in front of a function: the
 * deliveries to the route's target handed to the function as the SQS messages the queue
 * would hold, on a timer, one feed at a time.
 */
import type { SQSRecord } from 'aws-lambda';
import type { Delivery } from './targets.js';

/** The SQS message the route's queue would hand the function for a delivery, on its `receives`th receive. */
export function routeSqsRecord(d: Delivery, queue: string, receives = 1): SQSRecord {
  return {
    messageId: d.event.id,
    receiptHandle: `${d.event.id}#${receives}`,
    body: d.eventJson,
    attributes: {
      ApproximateReceiveCount: String(receives),
      SentTimestamp: String(d.deliveredAt),
      SenderId: 'events.amazonaws.com',
      ApproximateFirstReceiveTimestamp: String(d.deliveredAt),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:${d.event.region}:${d.event.account}:${queue.replaceAll('/', '-')}`,
    awsRegion: d.event.region,
  };
}

export interface FeedLoop {
  /** Stops the timer, feeds once more (what has been delivered so far) and waits for it. */
  stop(): Promise<void>;
}

/**
 * Calls `feed` every `intervalMs` (default 250), never two at once; a feed that throws goes to
 * `onError` and the next tick feeds again.
 */
export function startFeedLoop(feed: () => Promise<void>, opts: { intervalMs?: number; onError?: (error: unknown) => void } = {}): FeedLoop {
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    running = running.then(feed).catch((e: unknown) => opts.onError?.(e));
  };
  const timer = setInterval(tick, opts.intervalMs ?? 250);
  return {
    async stop() {
      clearInterval(timer);
      tick();
      await running;
    },
  };
}
