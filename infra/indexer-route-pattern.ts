/**
 * The EventBridge event pattern of an indexer route, as a pure function (no CDK import),
 * so the construct, the tests and anything reading rules from the synthesized template
 * agree on one definition.
 *
 * @example
 * ```ts
 * indexerRoutePattern({ source: 'openstack.nova', changedFields: ['running_vms'] });
 * // → { source: ['openstack.nova'], 'detail-type': ['compute_node.update'],
 * //     detail: { change: { changed_fields: ['running_vms'] } } }
 * ```
 */
import { CAUSES, ComputeNodePayload, EVENT_TYPES, type EventType } from '../functions/notifier/contract/index.js';
import { RESYNC_RUN_DETAIL_TYPE } from '../functions/notifier/contract/resync-run-event.js';
import { HEARTBEAT_DETAIL_TYPE } from '../functions/notifier/contract/heartbeat.js';

export type ChangeCause = (typeof CAUSES)[number];
export type ChangeOrigin = 'stream' | 'resync';

/** What a route selects. Every list is an OR of its values; the lists are ANDed. */
export interface IndexerRouteFilter {
  /**
   * Detail types to deliver.
   * @default - all of `compute_node.create`, `compute_node.update`, `compute_node.delete`;
   *   only `compute_node.update` when `changedFields` is set
   */
  readonly detailTypes?: readonly EventType[];
  /**
   * Deliver an update only when at least one of these payload fields is among its
   * `detail.change.changed_fields`. Only `compute_node.update` carries changed fields, so this
   * cannot be combined with create or delete.
   * @default - no filter on changed fields
   */
  readonly changedFields?: readonly string[];
  /**
   * Deliver only notifications with one of these `detail.change.cause` values (e.g. `['ttl']`).
   * @default - any cause
   */
  readonly causes?: readonly ChangeCause[];
  /**
   * Deliver only notifications with one of these `detail.change.origin` values.
   * @default - both `stream` and `resync`
   */
  readonly origins?: readonly ChangeOrigin[];
  /**
   * Also deliver the resync runs' start/end control events (detail-type
   * `hypervisor_notifier.resync_run`), which a consumer that sweeps needs (the reference
   * indexer). They carry no `change` block, so this cannot be combined with a filter on it
   * (`changedFields`, `causes`, `origins`).
   * @default false
   */
  readonly resyncRunEvents?: boolean;
  /**
   * Also deliver the heartbeats (detail-type `hypervisor_notifier.heartbeat`, one a minute:
   * functions/notifier/contract/heartbeat.ts), so the consumer can tell "quiet" from "not fed".
   * No change block either, so not with `changedFields`, `causes` or `origins`.
   * @default false
   */
  readonly heartbeats?: boolean;
}

export interface IndexerRoutePatternInput extends IndexerRouteFilter {
  /** The events' `source` (the notifier's EVENT_SOURCE). */
  readonly source: string;
}

/** The pattern in EventBridge's JSON form (`detail-type`, not CDK's `detailType`). */
export interface IndexerRoutePattern {
  readonly source: string[];
  readonly 'detail-type': string[];
  readonly detail?: { readonly change: Record<string, string[]> };
}

const PAYLOAD_FIELDS = Object.keys(ComputeNodePayload.fields);

/** Thrown for a route that names an unknown value or could never match anything. */
export class IndexerRouteError extends Error {
  override readonly name = 'IndexerRouteError';
}

function nonEmptyUnique<T extends string>(what: string, values: readonly T[], allowed: readonly string[]): T[] {
  if (values.length === 0) throw new IndexerRouteError(`${what} is empty: the route would match nothing (omit it to match any)`);
  for (const v of values) {
    if (!allowed.includes(v)) throw new IndexerRouteError(`${what}: unknown value '${v}' (one of: ${allowed.join(', ')})`);
  }
  return [...new Set(values)];
}

/** Builds (and validates) the event pattern of a route. */
export function indexerRoutePattern(input: IndexerRoutePatternInput): IndexerRoutePattern {
  if (input.source.trim() === '') throw new IndexerRouteError('source is empty');
  const changedFields = input.changedFields === undefined ? undefined : nonEmptyUnique('changedFields', input.changedFields, PAYLOAD_FIELDS);
  const detailTypes =
    input.detailTypes === undefined
      ? changedFields === undefined
        ? [...EVENT_TYPES]
        : ['compute_node.update' as const]
      : nonEmptyUnique('detailTypes', input.detailTypes, EVENT_TYPES);
  if (changedFields !== undefined) {
    const others = detailTypes.filter((t) => t !== 'compute_node.update');
    if (others.length > 0) {
      throw new IndexerRouteError(
        `changedFields only applies to compute_node.update (create and delete carry no changed fields), but detailTypes also names ${others.join(', ')}`,
      );
    }
  }
  if (input.resyncRunEvents === true && (changedFields !== undefined || input.causes !== undefined || input.origins !== undefined)) {
    throw new IndexerRouteError('resyncRunEvents cannot be combined with changedFields, causes or origins: the control events carry no change block, so the pattern would never match them');
  }
  if (input.heartbeats === true && (changedFields !== undefined || input.causes !== undefined || input.origins !== undefined)) {
    throw new IndexerRouteError('heartbeats cannot be combined with changedFields, causes or origins: the heartbeats carry no change block, so the pattern would never match them');
  }
  const change: Record<string, string[]> = {};
  if (changedFields !== undefined) change.changed_fields = changedFields;
  if (input.causes !== undefined) change.cause = nonEmptyUnique('causes', input.causes, CAUSES);
  if (input.origins !== undefined) change.origin = nonEmptyUnique('origins', input.origins, ['stream', 'resync']);
  return {
    source: [input.source],
    'detail-type': [
      ...detailTypes,
      ...(input.resyncRunEvents === true ? [RESYNC_RUN_DETAIL_TYPE] : []),
      ...(input.heartbeats === true ? [HEARTBEAT_DETAIL_TYPE] : []),
    ],
    ...(Object.keys(change).length > 0 ? { detail: { change } } : {}),
  };
}
