/**
 * What a newcomer tries first: the samples the README names, test-pattern fed with what they
 * already have in hand (a render line, a line of .local/events.jsonl), and render's one-line
 * summary. Each through the command as the CLI runs it.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderCommand } from '../../cli/render.js';
import { testPatternCommand } from '../../cli/test-pattern.js';

function io(stdin = '') {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: (s: string) => void out.push(s), stderr: (s: string) => void err.push(s), readStdin: async () => stdin } };
}

/** render's stdout lines for the sample stream event. */
async function renderedLines(): Promise<string[]> {
  const t = io();
  await renderCommand(['samples/stream-event.json'], t.io, {});
  return t.out.join('').split('\n').filter((l) => l !== '');
}

describe('samples and what test-pattern accepts', () => {
  it('the sample pattern matches the sample event (the README example), and not a delete', async () => {
    const t = io();
    expect(await testPatternCommand(['samples/pattern.json', 'samples/event.json'], t.io)).toBe(0);
    expect(t.out.join('')).toBe('true\n');
    const event = JSON.parse(readFileSync('samples/event.json', 'utf8')) as Record<string, unknown>;
    const d = io(JSON.stringify({ ...event, 'detail-type': 'compute_node.delete' }));
    expect(await testPatternCommand(['samples/pattern.json', '-'], d.io)).toBe(0);
    expect(d.out.join('')).toBe('false\n');
  });

  it("accepts a render output line: tested as the event EventBridge would deliver, and says so", async () => {
    const [create, , remove] = await renderedLines();
    const t = io(create);
    expect(await testPatternCommand(['samples/pattern.json', '-'], t.io)).toBe(0);
    expect(t.out.join('')).toBe('true\n');
    expect(t.err.join('')).toMatch(/PutEvents entry/);
    const r = io(remove);
    expect(await testPatternCommand(['samples/pattern.json', '-'], r.io)).toBe(0);
    expect(r.out.join('')).toBe('false\n');
  });

  it('accepts a line of .local/events.jsonl (its event), and points a whole JSONL file to one line', async () => {
    const event = JSON.parse(readFileSync('samples/event.json', 'utf8')) as Record<string, unknown>;
    const line = JSON.stringify({ rule: 'r', target: 't', deliveredAt: '2026-12-04T19:11:02.744Z', event });
    const t = io(line);
    expect(await testPatternCommand(['samples/pattern.json', '-'], t.io)).toBe(0);
    expect(t.out.join('')).toBe('true\n');
    const many = io(`${line}\n${line}\n`);
    expect(await testPatternCommand(['samples/pattern.json', '-'], many.io)).toBe(2);
    expect(many.err.join('')).toMatch(/2 JSON lines.*head -n 1/);
  });

  it('render ends with a one-line summary on stderr: records in, notifications out, suppressed, rejected', async () => {
    const t = io();
    expect(await renderCommand(['samples/stream-event.json'], t.io, {})).toBe(1);
    const errLines = t.err.join('').trimEnd().split('\n');
    const notified = t.out.join('').split('\n').filter((l) => l !== '').length;
    const records = (JSON.parse(readFileSync('samples/stream-event.json', 'utf8')) as { Records: unknown[] }).Records.length;
    const rejections = errLines.filter((l) => l.startsWith('{"rejected":true')).length;
    const summary = /^render: (\d+) records in, (\d+) notifications out, (\d+) suppressed, (\d+) ignored, (\d+) rejected$/.exec(errLines.at(-1)!);
    expect(summary).not.toBeNull();
    const [, inN, outN, suppressed, ignored, rejected] = summary!.map(Number);
    expect([inN, outN, rejected]).toEqual([records, notified, rejections]);
    // The sample has a deliberately invalid record (the README says so): exactly one.
    expect(rejected).toBe(1);
    expect(inN).toBe(outN! + suppressed! + ignored! + rejected!);
  });
});
