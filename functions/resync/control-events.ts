/**
 * Puts a resync run's control event (`hypervisor_notifier.resync_run`, phase start or end)
 * on the bus, validated against its contract schema first. Throttling and other transient
 * failures are retried with backoff until the deadline; anything else stops the run (its
 * state says the event is still due, so a resumed run sends it again).
 */
import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { RESYNC_RUN_DETAIL_TYPE, ResyncRunDetail } from '../notifier/contract/index.js';
import { RETRYABLE_ENTRY_CODES } from '../notifier/entry-error-codes.js';
import { isTransientError } from '../notifier/transient-errors.js';
import { retryPolicy } from '../notifier/retry-policy.js';
import { ResyncError } from './resync-errors.js';

export interface ControlEventTarget {
  readonly eventBridge: EventBridgeClient;
  readonly eventBusName: string;
  readonly eventSource: string;
  /** Epoch milliseconds after which no retry starts. */
  readonly deadline: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function putControlEvent(target: ControlEventTarget, detail: ResyncRunDetail): Promise<void> {
  const now = target.now ?? Date.now;
  const sleep = target.sleep ?? defaultSleep;
  const entry = {
    Source: target.eventSource,
    DetailType: RESYNC_RUN_DETAIL_TYPE,
    Detail: JSON.stringify(ResyncRunDetail.parse(detail)),
    Time: new Date(now()),
    EventBusName: target.eventBusName,
  };
  const policy = retryPolicy({ deadline: target.deadline, now });
  for (let attempt = 1; ; attempt++) {
    let why: string;
    try {
      const answer = await target.eventBridge.send(new PutEventsCommand({ Entries: [entry] }));
      const result = answer.Entries?.[0];
      if ((answer.FailedEntryCount ?? 0) === 0 && result?.ErrorCode === undefined) return;
      why = `${result?.ErrorCode ?? 'unknown'}: ${result?.ErrorMessage ?? 'no message'}`;
      if (!RETRYABLE_ENTRY_CODES.has(result?.ErrorCode ?? '')) throw new ResyncError(`the ${detail.phase} event of resync run ${detail.run_id} was refused (${why})`);
    } catch (error) {
      if (error instanceof ResyncError) throw error;
      if (!isTransientError(error)) {
        throw new ResyncError(`the ${detail.phase} event of resync run ${detail.run_id} could not be put (${(error as Error).name}: ${(error as Error).message})`);
      }
      why = `${(error as Error).name}: ${(error as Error).message}`;
    }
    const delay = policy.delayBefore(attempt);
    if (delay === undefined) throw new ResyncError(`the ${detail.phase} event of resync run ${detail.run_id} could not be put before the deadline (${why})`);
    await sleep(delay);
  }
}
