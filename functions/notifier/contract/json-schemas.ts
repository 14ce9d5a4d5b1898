/**
 * JSON Schemas (draft 4, the dialect the EventBridge schema registry takes) of each
 * event's `Detail`, one per detail type and payload version (the `change` block included),
 * plus the resync run's control event, generated from the same zod definitions that the
 * function's tests validate its output with.
 */
import * as z from 'zod/mini';
import { CHANGE_BLOCK_VERSION, DETAIL_SCHEMAS, EVENT_TYPES, NOTIFICATIONS, type EventType } from './notifications.js';
import { novaFieldJsonSchemas } from './nova-fields.js';
import { RESYNC_RUN_DETAIL_TYPE, RESYNC_RUN_EVENT_VERSION, ResyncRunDetail } from './resync-run-event.js';
import { HEARTBEAT_DETAIL_TYPE, HEARTBEAT_EVENT_VERSION, HeartbeatDetail } from './heartbeat.js';

export interface DetailJsonSchema {
  readonly detailType: EventType;
  readonly payloadName: string;
  readonly payloadVersion: string;
  /** Version of the `change` block the schema describes. */
  readonly changeVersion: number;
  /** A registry-safe name, e.g. `compute_node.create@ComputeNodePayload-1.0`. */
  readonly schemaName: string;
  readonly jsonSchema: Record<string, unknown>;
}

function toJsonSchema(schema: z.ZodMiniType): Record<string, unknown> {
  return z.toJSONSchema(schema, {
    target: 'draft-4',
    override: (ctx) => {
      const wire = novaFieldJsonSchemas.get(ctx.zodSchema as unknown as z.ZodMiniType);
      if (wire === undefined) return;
      // Nova fields are refinements zod cannot express; substitute their wire form.
      for (const key of Object.keys(ctx.jsonSchema)) delete (ctx.jsonSchema as Record<string, unknown>)[key];
      Object.assign(ctx.jsonSchema, structuredClone(wire));
    },
  }) as Record<string, unknown>;
}

/** One JSON Schema per detail type and payload version. */
export function detailJsonSchemas(): DetailJsonSchema[] {
  return EVENT_TYPES.map((detailType) => {
    const payload = NOTIFICATIONS[detailType];
    return {
      detailType,
      payloadName: payload.name,
      payloadVersion: payload.version,
      changeVersion: CHANGE_BLOCK_VERSION,
      schemaName: `${detailType}@${payload.name}-${payload.version}`,
      jsonSchema: { title: `${detailType} (${payload.name} ${payload.version}, change ${CHANGE_BLOCK_VERSION})`, ...toJsonSchema(DETAIL_SCHEMAS[detailType]) },
    };
  });
}

export interface ControlEventJsonSchema {
  readonly detailType: string;
  readonly version: number;
  /** A registry-safe name, e.g. `hypervisor_notifier.resync_run@1`. */
  readonly schemaName: string;
  readonly jsonSchema: Record<string, unknown>;
}

/** The JSON Schema of the resync run's control event (`hypervisor_notifier.resync_run`). */
export function resyncRunJsonSchema(): ControlEventJsonSchema {
  return {
    detailType: RESYNC_RUN_DETAIL_TYPE,
    version: RESYNC_RUN_EVENT_VERSION,
    schemaName: `${RESYNC_RUN_DETAIL_TYPE}@${RESYNC_RUN_EVENT_VERSION}`,
    jsonSchema: { title: `${RESYNC_RUN_DETAIL_TYPE} (version ${RESYNC_RUN_EVENT_VERSION})`, ...toJsonSchema(ResyncRunDetail) },
  };
}

/** JSON Schema of the `hypervisor_notifier.heartbeat` detail (contract/heartbeat.ts). */
export function heartbeatJsonSchema(): ControlEventJsonSchema {
  return {
    detailType: HEARTBEAT_DETAIL_TYPE,
    version: HEARTBEAT_EVENT_VERSION,
    schemaName: `${HEARTBEAT_DETAIL_TYPE}@${HEARTBEAT_EVENT_VERSION}`,
    jsonSchema: { title: `${HEARTBEAT_DETAIL_TYPE} (version ${HEARTBEAT_EVENT_VERSION})`, ...toJsonSchema(HeartbeatDetail) },
  };
}
