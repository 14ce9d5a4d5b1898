/**
 * A notification as Nova's `messagingv2` driver puts it on an AMQP broker: the oslo.messaging
 * v2 envelope `{"oslo.version": "2.0", "oslo.message": "<JSON text>"}`, whose inner message is
 * Nova's six keys (`message_id`, `publisher_id`, `event_type`, `priority`, `payload`,
 * `timestamp`, values and order from our `detail`, the payload's digits exact), then oslo's
 * `_unique_id` and the request context as `_context_*` keys. Both texts are written as Python's
 * `json.dumps` writes them (oslo's jsonutils for the inner text, kombu for the envelope), so
 * the bytes match Nova's captures (`nova-reference/oslo-envelopes/`) except for the ids and
 * the context's values.
 *
 * Everything is derived from the notification, so a redelivered SQS message is published as
 * the same AMQP message (same `_unique_id`, same context), and oslo's listener can drop it.
 *
 * Our `change` block is not part of Nova's message; it travels as AMQP headers
 * ({@link CHANGE_HEADERS}) for consumers that want ordering.
 */
import { ExactJsonError, JsonNumber, parseExactJson, type ExactJson } from '../indexer/exact-json.js';
import { uuidV5 } from '../notifier/message-id.js';
import { pythonJsonDumps, pythonJsonString } from './python-json.js';

/** AMQP header names carrying our `change` block (absent when the notification has none). */
export const CHANGE_HEADERS = {
  /** DynamoDB stream sequence number (digits; compare as an unbounded integer). */
  sequenceNumber: 'change.sequence_number',
  /** Watched fields that changed (an AMQP field array of strings; empty for create/delete). */
  changedFields: 'change.changed_fields',
  /** `stream` or `resync`. */
  origin: 'change.origin',
  /** `insert`, `modify`, `remove`, `ttl`, `soft_delete`, `undelete`. */
  cause: 'change.cause',
} as const;

/** Nova's six message keys, in Nova's order. */
export const NOVA_MESSAGE_KEYS = ['message_id', 'publisher_id', 'event_type', 'priority', 'payload', 'timestamp'] as const;

/** oslo.messaging's envelope version (`oslo_messaging/_drivers/common.py`, `_MESSAGING_VERSION`). */
export const OSLO_VERSION = '2.0';

/** An SQS message that cannot be published as a Nova notification (it ends in the dead-letter queue). */
export class UnbridgeableMessageError extends Error {
  override readonly name = 'UnbridgeableMessageError';
}

/** One notification, ready to publish: the envelope per topic (each topic has its own `_unique_id`). */
export interface OsloNotification {
  readonly messageId: string;
  readonly eventType: string;
  /** Lower-case priority: oslo's routing key is `<topic>.<priority>`. */
  readonly priority: string;
  /** Envelope bytes (UTF-8, all ASCII) for each topic, in the configured order. */
  readonly bodies: readonly { readonly topic: string; readonly routingKey: string; readonly body: Buffer }[];
  /** AMQP headers (our `change` block). */
  readonly headers: Readonly<Record<string, string | string[]>>;
}

type Obj = { [key: string]: ExactJson };
const isObject = (v: ExactJson | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof JsonNumber);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// Python's str(datetime): six fraction digits, or none when the microsecond is 0.
const NOVA_TIMESTAMP = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?$/;
const EVENT_TYPES = new Set(['compute_node.create', 'compute_node.update', 'compute_node.delete']);

function fail(field: string, value: ExactJson | undefined, rule: string): never {
  const shown = value === undefined ? 'nothing' : value instanceof JsonNumber ? value.text : JSON.stringify(value).slice(0, 200);
  throw new UnbridgeableMessageError(`${field}: ${rule} (got ${shown})`);
}

function text(o: Obj, key: string, where: string, pattern?: RegExp, rule?: string): string {
  const v = o[key];
  if (typeof v !== 'string') fail(`${where}${key}`, v, 'must be a string');
  if (pattern !== undefined && !pattern.test(v)) fail(`${where}${key}`, v, rule ?? `must match ${pattern}`);
  return v;
}

/**
 * The context our messages carry: the keys of Nova's `RequestContext.to_dict()`, in the order
 * of the captures, with the values of Nova's admin context (`nova.context.get_admin_context()`,
 * the context the resource tracker sends compute node notifications with): no user or
 * project, `is_admin` true, no roles, no token. Consumers that copy the context (Searchlight
 * passes it through; oslo's listener hands it to the endpoint as `ctxt`) find every key they
 * would find in Nova's, and nothing claims a user that did not act. Only `request_id` (a
 * `req-` UUID derived from `message_id`) and `timestamp` (the notification's time, ISO form
 * as Nova's `utils.strtime`) vary, both derived from the notification.
 */
function contextText(messageId: string, timestamp: string): string {
  const requestId = `req-${uuidV5(`oslo-request-id:${messageId}`)}`;
  const iso = timestamp.replace(' ', 'T') + (timestamp.length === 19 ? '.000000' : '');
  return (
    '"_context_user": null, "_context_project_id": null, "_context_system_scope": null, "_context_project": null, ' +
    '"_context_domain": null, "_context_user_domain": null, "_context_project_domain": null, "_context_is_admin": true, ' +
    '"_context_read_only": false, "_context_show_deleted": false, "_context_auth_token": null, ' +
    `"_context_request_id": ${pythonJsonString(requestId)}, "_context_global_request_id": null, "_context_resource_uuid": null, ` +
    '"_context_roles": [], "_context_user_identity": "- - - - -", "_context_is_admin_project": true, "_context_user_id": null, ' +
    `"_context_read_deleted": "no", "_context_remote_address": null, "_context_timestamp": ${pythonJsonString(iso)}, ` +
    '"_context_quota_class": null, "_context_user_name": null, "_context_service_catalog": [], "_context_project_name": null'
  );
}

/** oslo's `_unique_id` (32 hex digits, as `uuid4().hex`), derived from the message id and the topic: oslo draws one per topic. */
export function uniqueId(messageId: string, topic: string): string {
  return uuidV5(`oslo-unique-id:${messageId}:${topic}`).replaceAll('-', '');
}

function changeHeaders(change: ExactJson | undefined): Record<string, string | string[]> {
  if (change === undefined) return {};
  if (!isObject(change)) fail('change', change, 'must be an object');
  const fields = change.changed_fields;
  if (!Array.isArray(fields) || !fields.every((f) => typeof f === 'string')) fail('change.changed_fields', fields, 'must be a list of strings');
  return {
    [CHANGE_HEADERS.sequenceNumber]: text(change, 'sequence_number', 'change.', /^\d+$/, 'must be a digit string'),
    [CHANGE_HEADERS.changedFields]: fields as string[],
    [CHANGE_HEADERS.origin]: text(change, 'origin', 'change.'),
    [CHANGE_HEADERS.cause]: text(change, 'cause', 'change.'),
  };
}

/**
 * Reads an SQS message body (the EventBridge event an indexer route delivers, or a bare
 * `detail`) and builds what to publish on each topic. Throws {@link UnbridgeableMessageError}
 * naming the field, the value and the rule.
 */
export function osloNotification(body: string, topics: readonly string[]): OsloNotification {
  let root: ExactJson;
  try {
    root = parseExactJson(body);
  } catch (error) {
    if (error instanceof ExactJsonError) throw new UnbridgeableMessageError(`the message is not JSON: ${error.message}`);
    throw error;
  }
  if (!isObject(root)) fail('(message)', root, 'must be a JSON object');
  const detail = 'detail' in root ? root.detail : root;
  if (!isObject(detail)) fail('detail', detail, 'must be an object');

  const messageId = text(detail, 'message_id', '', UUID, 'must be a lower-case UUID');
  text(detail, 'publisher_id', '');
  const eventType = text(detail, 'event_type', '');
  if (!EVENT_TYPES.has(eventType)) fail('event_type', eventType, 'must be compute_node.create, compute_node.update or compute_node.delete');
  const priority = text(detail, 'priority', '', /^[A-Za-z]+$/, 'must be a priority name such as INFO');
  if (!isObject(detail.payload)) fail('payload', detail.payload, 'must be an object');
  const timestamp = text(detail, 'timestamp', '', NOVA_TIMESTAMP, "must be Nova's time format, e.g. 2026-11-26 19:10:59.581460");
  const headers = changeHeaders(detail.change);

  const nova = NOVA_MESSAGE_KEYS.map((k) => `${pythonJsonString(k)}: ${pythonJsonDumps(detail[k]!)}`).join(', ');
  const context = contextText(messageId, timestamp);
  const routingSuffix = priority.toLowerCase();
  const bodies = topics.map((topic) => {
    const inner = `{${nova}, "_unique_id": "${uniqueId(messageId, topic)}", ${context}}`;
    const envelope = `{"oslo.version": "${OSLO_VERSION}", "oslo.message": ${pythonJsonString(inner)}}`;
    return { topic, routingKey: `${topic}.${routingSuffix}`, body: Buffer.from(envelope, 'utf8') };
  });
  return { messageId, eventType, priority: routingSuffix, bodies, headers };
}
