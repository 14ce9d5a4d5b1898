import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { integerText } from '../../functions/notifier/codec/nova-integer.js';
import { novaJsonString } from '../../functions/notifier/codec/nova-json-string.js';
import { novaTimestamp } from '../../functions/notifier/codec/nova-timestamp.js';
import { isNovaUuid } from '../../functions/notifier/codec/uuid.js';
import { codecFor } from '../../functions/notifier/codec/attribute-codecs.js';

describe('integerText (DynamoDB number → Nova integer digits)', () => {
  it.each([
    ['8', '8'],
    ['-20', '-20'],
    ['0', '0'],
    ['-0', '0'],
    ['007', '7'],
    ['16384.0', '16384'],
    ['1.5E3', '1500'],
    ['15e-1', undefined],
    ['150e-1', '15'],
    ['1E+2', '100'],
    ['0.000', '0'],
    ['500.9', undefined],
    ['0.5', undefined],
    ['1e30', '1000000000000000000000000000000'],
    ['-9007199254740993', '-9007199254740993'],
    ['abc', undefined],
    ['', undefined],
    ['.', undefined],
    ['1e999', undefined],
  ])('%s → %s', (input, digits) => {
    const r = integerText(input);
    expect(r.ok ? r.digits : undefined).toBe(digits);
  });

  it('keeps any integer exact, whatever its size', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 60n), max: 10n ** 60n }), (n) => {
        const r = integerText(n.toString());
        expect(r).toEqual({ ok: true, digits: n.toString() });
      }),
    );
  });

  it('reads an integral number however DynamoDB spells it', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.nat(5), (n, shift) => {
        const digits = (n < 0n ? -n : n).toString();
        const spelled = `${n < 0n ? '-' : ''}${digits}${'0'.repeat(shift)}e-${shift}`;
        expect(integerText(spelled)).toEqual({ ok: true, digits: n.toString() });
      }),
    );
  });
});

describe('novaJsonString (Python json.dumps string literals)', () => {
  it.each([
    ['plain', '"plain"'],
    ['Q"EMU\\', '"Q\\"EMU\\\\"'],
    ['a\tb\nc\rd\u0000e\u001f\b\f', '"a\\tb\\nc\\rd\\u0000e\\u001f\\b\\f"'],
    ['ホスト-01 🖥️ \u2028\u2029 \u007f', '"ホスト-01 🖥️ \u2028\u2029 \u007f"'],
    ['</script>', '"</script>"'],
  ])('%j', (input, expected) => {
    expect(novaJsonString(input)).toBe(expected);
  });

  it('refuses lone surrogates, which UTF-8 cannot carry', () => {
    expect(novaJsonString('a\ud800b')).toBeUndefined();
    expect(novaJsonString('\udc00')).toBeUndefined();
    expect(novaJsonString('ok \ud83d\udda5')).toBe('"ok \ud83d\udda5"');
  });

  it('always yields JSON that parses back to the same text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (s) => {
        expect(JSON.parse(novaJsonString(s)!)).toBe(s);
      }),
    );
  });
});

describe('novaTimestamp (Python str(datetime))', () => {
  it('writes six fraction digits, or none when the microsecond is 0', () => {
    expect(novaTimestamp(1795719961)).toBe('2026-11-26 19:06:01');
    expect(novaTimestamp(1795719961.5814)).toBe('2026-11-26 19:06:01.581400');
    expect(novaTimestamp(1704164645)).toBe('2024-01-02 03:04:05');
    expect(novaTimestamp(0.000001)).toBe('1970-01-01 00:00:00.000001');
  });
});

describe('isNovaUuid (what Python uuid.UUID reads)', () => {
  it.each([
    ['5eed0000-0000-0000-0000-000000000001', true],
    ['5EED0000-0000-0000-0000-000000000027', true],
    ['{5eed0000-0000-0000-0000-000000000029}', true],
    ['urn:uuid:5eed0000-0000-0000-0000-000000000029', true],
    ['5eed0000000000000000000000000001', true],
    ['5eed0000-0000-0000-0000-00000000001', false],
    ['5eed0000-0000-0000-0000-00000000000g', false],
    ['not-a-uuid', false],
    ['', false],
  ])('%s → %s', (input, ok) => {
    expect(isNovaUuid(input)).toBe(ok);
  });
});

describe('attribute codecs', () => {
  const int = codecFor('Integer', false);
  const nullableInt = codecFor('Integer', true);
  const str = codecFor('String', true);

  it('names the rule a wrong DynamoDB type breaks', () => {
    expect(int({ S: '8' })).toEqual({ rule: 'must be a DynamoDB number (N)' });
    expect(nullableInt({ BOOL: true })).toEqual({ rule: 'must be a DynamoDB number (N) or NULL' });
    expect(int({ N: '500.9' })).toEqual({ rule: 'must be an integer, not a fraction' });
    expect(int(undefined)).toEqual({ rule: 'is required' });
    expect(int({ NULL: true })).toEqual({ rule: 'must not be null' });
    expect(str({ N: '12345' })).toEqual({ rule: 'must be a DynamoDB string (S) or NULL' });
  });

  it('writes null for a nullable field that is NULL or missing', () => {
    expect(nullableInt({ NULL: true })).toBe('null');
    expect(nullableInt(undefined)).toBe('null');
    expect(str(undefined)).toBe('null');
  });
});

describe('message ids', () => {
  it('are RFC 9562 version 5 UUIDs, the same as the uuid package computes', async () => {
    const { v5 } = await import('uuid');
    const { uuidV5, MESSAGE_ID_NAMESPACE } = await import('../../functions/notifier/message-id.js');
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (name) => {
        expect(uuidV5(name)).toBe(v5(name, MESSAGE_ID_NAMESPACE));
      }),
    );
  });
});
