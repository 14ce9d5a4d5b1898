/**
 * Where the local bus delivers: the event as EventBridge hands it to a rule's target.
 * The indexer sink keeps every delivery in memory (tests query it); the JSONL target
 * appends each delivery to a file.
 */
import type { JsonlWriter } from './run-directory.js';

/** An event as EventBridge delivers it to targets. */
export interface DeliveredEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: Record<string, unknown>;
}

export interface Delivery {
  /** The rule that matched. */
  readonly rule: string;
  /** The rule's target (an indexer route's queue). */
  readonly target: string;
  readonly event: DeliveredEvent;
  /** The event as JSON text, with the Detail's text exactly as put (large integers intact). */
  readonly eventJson: string;
  /** Epoch ms of delivery. */
  readonly deliveredAt: number;
}

export interface EventTarget {
  deliver(delivery: Delivery): void;
}

/** The local indexer: every delivery, by target, in arrival order. */
export class IndexerSink implements EventTarget {
  private readonly byTarget = new Map<string, Delivery[]>();
  private readonly all: Delivery[] = [];

  deliver(delivery: Delivery): void {
    this.all.push(delivery);
    const list = this.byTarget.get(delivery.target) ?? [];
    list.push(delivery);
    this.byTarget.set(delivery.target, list);
  }

  /** Deliveries to one target, or to all. */
  deliveries(target?: string): readonly Delivery[] {
    return target === undefined ? [...this.all] : [...(this.byTarget.get(target) ?? [])];
  }

  targets(): string[] {
    return [...this.byTarget.keys()];
  }
}

/** Appends `{rule, target, deliveredAt, event}` lines, the event's text spliced in as delivered. */
export class JsonlTarget implements EventTarget {
  constructor(private readonly writer: JsonlWriter) {}

  deliver(delivery: Delivery): void {
    const head = JSON.stringify({ rule: delivery.rule, target: delivery.target, deliveredAt: new Date(delivery.deliveredAt).toISOString() });
    this.writer.write(`${head.slice(0, -1)},"event":${delivery.eventJson}}`, true);
  }
}
