import { describe, expect, it } from 'vitest';
import { measureGlobalEndpointColdStart, renderGlobalEndpointColdStart, spliceGlobalEndpointColdStartSection } from '../../bench/cold-start-global-endpoint.js';

// §5b on one run of each variant, so it cannot rot. Timings are never checked here: only what
// was built and that every variant's first event was handled (a failed one rejects).
describe('bench §5b: cold start with the global endpoint option', () => {
  it('measures off, off with the signer bundled, and on; only the off bundle leaves the signer out', async () => {
    const r = await measureGlobalEndpointColdStart({ runs: 1 });
    expect(r.variants.map((v) => [v.name, v.signerBundled, v.globalEndpointId])).toEqual([
      ['off', false, false],
      ['off, signer bundled', true, false],
      ['on', true, true],
    ]);
    const [off, bundled, on] = r.variants;
    expect(bundled!.bundle.bytes - off!.bundle.bytes).toBeGreaterThan(10_000);
    expect(on!.bundle.bytes).toBe(bundled!.bundle.bytes);
    for (const v of r.variants) expect(v.runs).toBe(1);

    const section = renderGlobalEndpointColdStart(r);
    expect(section[0]).toBe('## 5b. Cold start and the global endpoint option');
    const md = '## 5. Cold start\n\nfigures\n\n## 6. Memory\n\nmore\n';
    const once = spliceGlobalEndpointColdStartSection(md, section);
    expect(once.indexOf('## 5b.')).toBeGreaterThan(once.indexOf('## 5. '));
    expect(once.indexOf('## 5b.')).toBeLessThan(once.indexOf('## 6. '));
    expect(spliceGlobalEndpointColdStartSection(once, section)).toBe(once);
  }, 120_000);
});
