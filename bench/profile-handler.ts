/**
 * `node --cpu-prof --import tsx bench/profile-handler.ts [batches]`: the handler on the
 * 1,000-record mixed batch (`MIX=creates`: creates only), over and over, with nothing else in
 * the process, so a CPU profile shows the hot path alone (none of the benchmark's own stages).
 * Prints the CPU per record of the second half of the batches.
 */
import { CONTEXT, benchNotifier, sunk, timed } from './harness.js';
import { CREATES_ONLY, REALISTIC_MIX, streamEvent } from './record-mix.js';

const batches = Number(process.argv[2] ?? 300);
const { handle, transport } = benchNotifier();
const event = streamEvent(1000, process.env.MIX === 'creates' ? CREATES_ONLY : REALISTIC_MIX);
let cpuUs = 0;
const measured = batches - Math.floor(batches / 2);
for (let i = 0; i < batches; i++) {
  transport.reset();
  const s = await timed(() => sunk(() => handle(event, CONTEXT)));
  if (i >= batches - measured) cpuUs += s.cpuUs;
}
process.stderr.write(`${batches} batches; second half ${(cpuUs / measured / 1000).toFixed(2)} µs CPU per record\n`);
