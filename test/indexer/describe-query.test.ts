/** A query in words, with the freshness of each free resource the indexer reads at a resolution. */
import { describe, expect, it } from 'vitest';
import { describeQuery } from '../../functions/indexer/query-plan.js';
import { REFERENCE_INDEXER_RESOLUTIONS } from '../../functions/indexer/read-fields.js';

describe('describeQuery', () => {
  it('says "within" the resolution for free RAM, and nothing for the exact resources', () => {
    const ram = { free_ram_mb: REFERENCE_INDEXER_RESOLUTIONS.free_ram_mb! };
    expect(describeQuery({ hypervisorType: 'QEMU', minFreeRamMb: 32768n }, ram)).toBe('type QEMU, ≥ 32768 MB free RAM (within 1024 MB), sorted by free_ram_mb (within 1024 MB), most free first');
    expect(describeQuery({ minFreeVcpus: 4n, minFreeDiskGb: 500n, order: 'asc' }, ram)).toBe('≥ 4 free vCPUs, ≥ 500 GB free disk, sorted by free_vcpus, best fit first');
    expect(describeQuery({ host: 'compute-1', sort: 'free_ram_mb' }, {})).toBe('host compute-1, sorted by free_ram_mb, most free first');
  });
});
