/**
 * Indexer routes opt in to heartbeats (`heartbeats: true`): the route's pattern adds the
 * `hypervisor_notifier.heartbeat` detail type (and only then), which carries no change block,
 * so it cannot be combined with a filter on one. The reference indexer's route opts in.
 */
import { describe, expect, it } from 'vitest';
import { HEARTBEAT_DETAIL_TYPE } from '../../functions/notifier/contract/index.js';
import { REFERENCE_INDEXER_ROUTE } from '../../infra/hypervisor-notifications-stack.js';
import { indexerRoutePattern } from '../../infra/indexer-route-pattern.js';

describe('heartbeats on an indexer route', () => {
  it('are delivered only to a route that opts in', () => {
    expect(indexerRoutePattern({ source: 's' })['detail-type']).not.toContain(HEARTBEAT_DETAIL_TYPE);
    expect(indexerRoutePattern({ source: 's', heartbeats: true })['detail-type']).toEqual(['compute_node.create', 'compute_node.update', 'compute_node.delete', HEARTBEAT_DETAIL_TYPE]);
    expect(indexerRoutePattern({ source: 's', heartbeats: true, resyncRunEvents: true })['detail-type']).toContain(HEARTBEAT_DETAIL_TYPE);
  });

  it('cannot be combined with a filter on the change block', () => {
    expect(() => indexerRoutePattern({ source: 's', heartbeats: true, causes: ['ttl'] })).toThrow(/heartbeats cannot be combined with changedFields, causes or origins/);
  });

  it("the reference indexer's route opts in", () => {
    expect(REFERENCE_INDEXER_ROUTE.options.heartbeats).toBe(true);
  });
});
