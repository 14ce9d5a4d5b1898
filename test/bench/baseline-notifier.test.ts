import { describe, expect, it } from 'vitest';
import { createBaselineNotifier } from '../../bench/baseline-notifier.js';
import { StubTransport } from '../../bench/transport.js';
import { loadVectors } from '../support/nova-vectors.js';

// The benchmark's baseline must send what the notifier sends (Nova's payloads), or comparing
// their costs means nothing. These vectors are the ordinary nodes the benchmark's batches are
// made of, plus null, absent, empty and non-ASCII values; the baseline's known limits (integers
// beyond 2^53, IPv6 normalisation) are named in its header and not checked here.
const VECTORS = [
  '01_typical_libvirt_qemu.json',
  '02_typical_ironic_zero_resources.json',
  '03_typical_vmware.json',
  '04_typical_big_host.json',
  '05_all_nullable_none.json',
  '06_all_nullable_unset.json',
  '07_host_none.json',
  '23_zero_values.json',
  '24_empty_strings.json',
  '34_unicode_hostname.json',
];
const CONTEXT = { getRemainingTimeInMillis: () => 60_000 };

/** The payload's text exactly as sent: between `"payload":` and `,"timestamp":` of the Detail. */
function payloadText(detail: string): string {
  const start = detail.indexOf('"payload":') + '"payload":'.length;
  const end = detail.lastIndexOf(',"timestamp":"');
  return detail.slice(start, end);
}

describe('baseline notifier (bench/baseline-notifier.ts) against the Nova vectors', () => {
  const vectors = loadVectors();
  for (const file of VECTORS) {
    const vector = vectors.get(file);
    it(`${file}: every case sends Nova's payload byte for byte, one PutEvents request per notification`, async () => {
      expect(vector).toBeDefined();
      const transport = new StubTransport({ capture: true });
      const handle = createBaselineNotifier({
        eventBridge: transport.clients().eventBridge,
        eventBusName: 'bus',
        eventSource: 'nova',
        publisherHostFallback: vector!.publisher_host_fallback,
      });
      for (const c of vector!.cases) {
        transport.reset();
        const response = await handle({ Records: [c.record] }, CONTEXT);
        expect(response.batchItemFailures, c.case).toEqual([]);
        const sent = transport.capturedRequests().map((r) => r.Entries);
        expect(sent.length, `${c.case}: requests`).toBe(c.expect.length);
        c.expect.forEach((want, i) => {
          if ('rejected' in want) throw new Error(`${file} ${c.case}: not a vector for the baseline`);
          const entry = sent[i]![0]!;
          expect(entry.DetailType).toBe(want.DetailType);
          const detail = entry.Detail as string;
          expect(payloadText(detail), `${c.case}: payload`).toBe(want.payload_json);
          const parsed = JSON.parse(detail) as Record<string, unknown>;
          expect([parsed.event_type, parsed.priority, parsed.publisher_id]).toEqual([want.event_type, want.priority, want.publisher_id]);
        });
      }
    });
  }

  it('reports a record whose image is not a compute node as a batch item failure and sends nothing for it', async () => {
    const transport = new StubTransport();
    const handle = createBaselineNotifier({ eventBridge: transport.clients().eventBridge, eventBusName: 'bus', eventSource: 'nova', publisherHostFallback: 'h' });
    const bad = vectors.get('42_coerced_inputs.json')!.cases.find((c) => c.case === 'create')!.record;
    const good = vectors.get('01_typical_libvirt_qemu.json')!.cases.find((c) => c.case === 'create')!.record;
    const response = await handle({ Records: [good, bad] }, CONTEXT);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: (bad.dynamodb as { SequenceNumber: string }).SequenceNumber }]);
    expect(transport.counts.putEventsRequests).toBe(1);
  });
});
