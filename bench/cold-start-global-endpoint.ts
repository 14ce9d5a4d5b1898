/**
 * Measurement 5b: what the global endpoint option costs at a cold start, and that it costs
 * nothing when off. The handler is bundled as §5's (the AWS SDK inside) three ways, and each
 * fresh `node` imports it and handles a first, one-record event against the loopback stand-in:
 *
 * - **off**, as deployed without `globalEndpoint`: the signer left out of the bundle,
 *   GLOBAL_ENDPOINT_ID unset (§5's figure);
 * - **off, signer bundled**: the same with the signer in the bundle, unused: what leaving it out saves;
 * - **on**: the signer bundled and GLOBAL_ENDPOINT_ID set: the signer imported at start-up and
 *   the first PutEvents signed with SigV4a (to the stand-in, as `AWS_ENDPOINT_URL_EVENTBRIDGE`
 *   overrides the endpoint's host; the request still carries `EndpointId`).
 *
 * The variants run in turns (one run of each, then again) so a shared machine's load falls on
 * all three alike. `npm run bench -- --cold-start-global-endpoint` runs this alone.
 */
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { bundleHandler, coldStartDir, medianRun, runOnce, startFakeAws, type BundleFigures, type ColdStartRun } from './cold-start.js';
import { spliceSection } from './splice-section.js';

export interface GlobalEndpointColdStartVariant {
  readonly name: 'off' | 'off, signer bundled' | 'on';
  readonly signerBundled: boolean;
  readonly globalEndpointId: boolean;
  readonly bundle: BundleFigures;
  readonly runs: number;
  /** Medians. */
  readonly median: ColdStartRun;
}

export interface GlobalEndpointColdStartResult {
  /** When it was measured: with `--cold-start-global-endpoint`, apart from the rest of the run. */
  readonly measuredAt: string;
  readonly node: string;
  /** 1-minute load average when the measurement started and ended (the machine is shared). */
  readonly loadAverage: { readonly start: number; readonly end: number };
  readonly variants: readonly GlobalEndpointColdStartVariant[];
}

const SETUPS = [
  { name: 'off', signerBundled: false, globalEndpointId: false, file: 'handler-off.mjs' },
  { name: 'off, signer bundled', signerBundled: true, globalEndpointId: false, file: 'handler-signer.mjs' },
  { name: 'on', signerBundled: true, globalEndpointId: true, file: 'handler-signer.mjs' },
] as const;

export async function measureGlobalEndpointColdStart(opts: { runs: number }): Promise<GlobalEndpointColdStartResult> {
  const loadAtStart = loadavg()[0]!;
  const dir = coldStartDir(false);
  const { server, url } = await startFakeAws();
  try {
    const bundles = new Map<string, BundleFigures>();
    for (const s of SETUPS) {
      if (!bundles.has(s.file)) bundles.set(s.file, await bundleHandler({ externalSdk: false, sourceMaps: false, signer: s.signerBundled, outfile: join(dir, s.file) }));
    }
    const envOf = (s: (typeof SETUPS)[number]): Record<string, string> => (s.globalEndpointId ? { GLOBAL_ENDPOINT_ID: 'abcde.veo' } : {});
    for (const s of SETUPS) await runOnce(dir, s.file, url, false, envOf(s)); // warm the file cache
    const runs = SETUPS.map((): ColdStartRun[] => []);
    for (let i = 0; i < opts.runs; i++) {
      for (const [k, s] of SETUPS.entries()) runs[k]!.push(await runOnce(dir, s.file, url, false, envOf(s)));
    }
    return {
      measuredAt: new Date().toISOString(),
      node: process.version,
      loadAverage: { start: Math.round(loadAtStart * 100) / 100, end: Math.round(loadavg()[0]! * 100) / 100 },
      variants: SETUPS.map((s, k) => ({
        name: s.name,
        signerBundled: s.signerBundled,
        globalEndpointId: s.globalEndpointId,
        bundle: bundles.get(s.file)!,
        runs: runs[k]!.length,
        median: medianRun(runs[k]!),
      })),
    };
  } finally {
    server.close();
    server.closeAllConnections();
    rmSync(dir, { recursive: true, force: true });
  }
}

const fmt = (x: number, digits = 1): string => x.toFixed(digits);
const KiB = (b: number): string => fmt(b / 1024, 0);

/** §5b of bench/results.md. */
export function renderGlobalEndpointColdStart(r: GlobalEndpointColdStartResult): string[] {
  const off = r.variants.find((v) => v.name === 'off')!;
  const delta = (v: GlobalEndpointColdStartVariant): string => {
    if (v === off) return '—';
    const d = v.median.importPlusFirstEventMs - off.median.importPlusFirstEventMs;
    return `${d >= 0 ? '+' : ''}${fmt(d)} ms`;
  };
  const L: string[] = [];
  L.push('## 5b. Cold start and the global endpoint option');
  L.push('');
  L.push(
    `Measured ${r.measuredAt}. As §5 (AWS SDK inside the bundle, no source maps), ${off.runs} runs of each, in turns (load average ${r.loadAverage.start} at the start, ${r.loadAverage.end} at the end); a fresh \`node\` (${r.node}) imports the bundle and handles a one-record event. ` +
      '*off*: as deployed without `globalEndpoint`, the SigV4a signer left out of the bundle (the handler imports it only when GLOBAL_ENDPOINT_ID is set); ' +
      '*off, signer bundled*: the same with the signer in the bundle, unused (what leaving it out saves); ' +
      '*on*: the signer bundled and GLOBAL_ENDPOINT_ID set, so it is imported at start-up and the first PutEvents is signed with SigV4a. ' +
      'Only this section: `npm run bench -- --cold-start-global-endpoint --write`.',
  );
  L.push('');
  L.push('| Variant | Bundle | gzip | Import | First event | Import + first event | vs off | Spawn to result |');
  L.push('|---|---|---|---|---|---|---|---|');
  for (const v of r.variants) {
    const m = v.median;
    L.push(`| ${v.name} | ${KiB(v.bundle.bytes)} KiB | ${KiB(v.bundle.gzipBytes)} KiB | ${fmt(m.importMs)} ms | ${fmt(m.firstEventMs)} ms | **${fmt(m.importPlusFirstEventMs)} ms** | ${delta(v)} | ${fmt(m.processMs)} ms |`);
  }
  L.push('');
  return L;
}

/** Replaces §5b in `markdown`, or puts it before §6. */
export function spliceGlobalEndpointColdStartSection(markdown: string, section: readonly string[]): string {
  return spliceSection(markdown, section, '## 5b.', ['## 6.']);
}
