/**
 * The oslo envelope against Nova's wire captures (nova-reference/oslo-envelopes) and against
 * Python's own `json` module (Debian's python3, the serializer oslo and kombu use).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { osloNotification, uniqueId, UnbridgeableMessageError, CHANGE_HEADERS } from '../../functions/amqp-bridge/oslo-message.js';
import { pythonJsonString } from '../../functions/amqp-bridge/python-json.js';
import { DEBIAN_PYTHON } from './rabbitmq-broker.js';
import { routeMessages } from './support.js';

const CAPTURES = resolve(import.meta.dirname, '..', '..', '..', 'shared', 'nova-reference', 'oslo-envelopes');
const hasPython = existsSync(DEBIAN_PYTHON);
if (!hasPython && process.env.CI === 'true') throw new Error(`${DEBIAN_PYTHON} is needed in CI`);

interface Capture {
  actions: Record<string, { exchange: string; routing_key: string; body: { 'oslo.version': string; 'oslo.message': string }; inner_message_keys_in_order: string[] }>;
}
const captures: [string, Capture][] = existsSync(CAPTURES)
  ? readdirSync(CAPTURES).filter((f) => f.endsWith('.json')).sort().map((f) => [f, JSON.parse(readFileSync(join(CAPTURES, f), 'utf8')) as Capture])
  : [];

/** Runs Python's json.dumps(json.loads(line)) on each line: its own formatting of the same value. */
function pythonRoundTrip(lines: string[]): string[] {
  const script = 'import json,sys\nfor line in sys.stdin.read().split("\\n")[:-1]:\n    print(json.dumps(json.loads(line)))';
  const out = execFileSync(DEBIAN_PYTHON, ['-c', script], { input: lines.map((l) => l + '\n').join(''), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return out.split('\n').slice(0, -1);
}

const CHANGE = { sequence_number: '000000000000000000102', changed_fields: ['vcpus'], origin: 'stream', cause: 'modify' };

describe.runIf(captures.length > 0)("Nova's captures", () => {
  const cases = captures.flatMap(([file, c]) => Object.entries(c.actions).map(([action, a]) => ({ name: `${file} ${action}`, ...a })));

  it.each(cases)('$name: routing key, Nova\'s six keys byte for byte, then oslo\'s keys in order', (c) => {
    const inner = c.body['oslo.message'];
    const novaEnd = inner.indexOf(', "_unique_id"');
    // Our detail carries the same six values (compact JSON, as the notifier writes it).
    const detail = { ...(JSON.parse(inner.slice(0, novaEnd) + '}') as object), change: CHANGE };
    const n = osloNotification(JSON.stringify({ 'detail-type': 'x', detail }), ['versioned_notifications']);
    expect(n.bodies).toHaveLength(1);
    const body = n.bodies[0]!;
    expect(body.routingKey).toBe(c.routing_key);
    const ours = JSON.parse(body.body.toString('utf8')) as Record<string, string>;
    expect(Object.keys(ours)).toEqual(Object.keys(c.body));
    expect(ours['oslo.version']).toBe(c.body['oslo.version']);
    const oursInner = ours['oslo.message']!;
    expect(oursInner.slice(0, novaEnd)).toBe(inner.slice(0, novaEnd));
    expect(Object.keys(JSON.parse(oursInner) as object)).toEqual(c.inner_message_keys_in_order);
  });
});

describe.runIf(hasPython)("Python's json.dumps agrees with every byte", () => {
  it('the whole envelope and its inner message, for the reference vectors (exact big integers, unicode)', () => {
    const messages = routeMessages(['01_typical_libvirt_qemu.json', '30_beyond_js_safe_integer.json', '32_bignum_1e30.json', '34_unicode_hostname.json']);
    const bodies = messages.map((m) => osloNotification(m.body, ['versioned_notifications']).bodies[0]!.body.toString('utf8'));
    const inners = bodies.map((b) => (JSON.parse(b) as Record<string, string>)['oslo.message']!);
    expect(pythonRoundTrip(bodies)).toEqual(bodies);
    // The inner text holds integers beyond 2^53: Python reads and writes them exactly.
    expect(pythonRoundTrip(inners)).toEqual(inners);
    expect(inners.some((t) => /\d{30}/.test(t))).toBe(true);
  });

  it('strings: any Unicode, controls, lone surrogates', () => {
    const strings = fc.sample(
      fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }), fc.string({ unit: fc.constantFrom('\u0000', '\u001f', '\u007f', '\u0080', '\ud800', '\udfff', '"', '\\', '/', '\u2028', 'é'), maxLength: 12 })),
      { numRuns: 2000, seed: 14 },
    );
    const ours = strings.map(pythonJsonString);
    // Node's JSON.stringify gives Python a value to load (lone surrogates as \\udxxx escapes).
    expect(pythonRoundTrip(strings.map((s) => JSON.stringify(s)))).toEqual(ours);
  });
});

describe('derived from the notification', () => {
  const [create] = routeMessages(['01_typical_libvirt_qemu.json']);

  it('a redelivered message is the same message, byte for byte', () => {
    const a = osloNotification(create!.body, ['versioned_notifications', 'searchlight']);
    const b = osloNotification(create!.body, ['versioned_notifications', 'searchlight']);
    expect(b.bodies.map((x) => x.body.toString('hex'))).toEqual(a.bodies.map((x) => x.body.toString('hex')));
  });

  it('each topic has its own _unique_id (as oslo draws one per topic); the context is shared', () => {
    const n = osloNotification(create!.body, ['versioned_notifications', 'searchlight']);
    const [v, s] = n.bodies.map((x) => JSON.parse((JSON.parse(x.body.toString()) as Record<string, string>)['oslo.message']!) as Record<string, unknown>);
    expect(n.bodies.map((x) => x.routingKey)).toEqual(['versioned_notifications.info', 'searchlight.info']);
    expect(v!._unique_id).toBe(uniqueId(create!.detail.message_id, 'versioned_notifications'));
    expect(v!._unique_id).toMatch(/^[0-9a-f]{32}$/);
    expect(v!._unique_id).not.toBe(s!._unique_id);
    expect(v!._context_request_id).toBe(s!._context_request_id);
    expect(v!._context_request_id).toMatch(/^req-[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it("the context's timestamp is the notification's, in Nova's strtime form (six fraction digits always)", () => {
    const detail = JSON.parse(create!.detailText) as Record<string, unknown>;
    for (const [timestamp, expected] of [
      ['2024-01-02 03:04:05', '2024-01-02T03:04:05.000000'],
      ['2026-11-26 19:10:59.581460', '2026-11-26T19:10:59.581460'],
    ] as const) {
      const n = osloNotification(JSON.stringify({ ...detail, timestamp }), ['t']);
      const inner = JSON.parse((JSON.parse(n.bodies[0]!.body.toString()) as Record<string, string>)['oslo.message']!) as Record<string, unknown>;
      expect(inner._context_timestamp).toBe(expected);
      expect(inner.timestamp).toBe(timestamp);
    }
  });

  it('our change block travels as AMQP headers', () => {
    const n = osloNotification(create!.body, ['t']);
    expect(n.headers).toEqual({
      [CHANGE_HEADERS.sequenceNumber]: create!.detail.change.sequence_number,
      [CHANGE_HEADERS.changedFields]: create!.detail.change.changed_fields,
      [CHANGE_HEADERS.origin]: 'stream',
      [CHANGE_HEADERS.cause]: 'insert',
    });
    expect(JSON.parse((JSON.parse(n.bodies[0]!.body.toString()) as Record<string, string>)['oslo.message']!)).not.toHaveProperty('change');
  });

  it.each([
    ['not JSON', '{"detail": ', /the message is not JSON/],
    ['no message_id', { publisher_id: 'nova-compute:x' }, /^message_id: must be a string \(got nothing\)/],
    ['another event', { message_id: '00000000-0000-5000-8000-000000000000', publisher_id: 'p', event_type: 'instance.create' }, /^event_type: must be compute_node\.create.*\(got "instance\.create"\)/],
    ['a bad time', { message_id: '00000000-0000-5000-8000-000000000000', publisher_id: 'p', event_type: 'compute_node.delete', priority: 'INFO', payload: {}, timestamp: '2026-11-26T19:10:59Z' }, /^timestamp: must be Nova's time format.*\(got "2026-11-26T19:10:59Z"\)/],
  ])('a message that is not a notification is refused naming the field, value and rule: %s', (_name, body, message) => {
    const text = typeof body === 'string' ? body : JSON.stringify({ detail: body });
    expect(() => osloNotification(text, ['t'])).toThrow(UnbridgeableMessageError);
    expect(() => osloNotification(text, ['t'])).toThrow(message);
  });
});
