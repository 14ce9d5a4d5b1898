/** The pure pattern builder of indexer routes. */
import { describe, expect, it } from 'vitest';
import { IndexerRouteError, indexerRoutePattern } from '../../infra/indexer-route-pattern.js';

describe('indexerRoutePattern', () => {
  it('defaults to every detail type of the source', () => {
    expect(indexerRoutePattern({ source: 'openstack.nova' })).toEqual({
      source: ['openstack.nova'],
      'detail-type': ['compute_node.create', 'compute_node.update', 'compute_node.delete'],
    });
  });

  it('"only on changes of running_vms" is an update pattern on detail.change.changed_fields', () => {
    expect(indexerRoutePattern({ source: 'openstack.nova', changedFields: ['running_vms'] })).toEqual({
      source: ['openstack.nova'],
      'detail-type': ['compute_node.update'],
      detail: { change: { changed_fields: ['running_vms'] } },
    });
  });

  it('adds the resync runs\' control events on request, and refuses them with a filter on change (they have none)', () => {
    expect(indexerRoutePattern({ source: 'openstack.nova', resyncRunEvents: true })).toEqual({
      source: ['openstack.nova'],
      'detail-type': ['compute_node.create', 'compute_node.update', 'compute_node.delete', 'hypervisor_notifier.resync_run'],
    });
    expect(() => indexerRoutePattern({ source: 's', resyncRunEvents: true, origins: ['resync'] })).toThrow(/resyncRunEvents cannot be combined/);
  });

  it('combines causes and origins, de-duplicating values', () => {
    expect(
      indexerRoutePattern({ source: 's', detailTypes: ['compute_node.delete', 'compute_node.delete'], causes: ['ttl', 'remove'], origins: ['resync'] }),
    ).toEqual({ source: ['s'], 'detail-type': ['compute_node.delete'], detail: { change: { cause: ['ttl', 'remove'], origin: ['resync'] } } });
  });

  it('rejects changed fields with create or delete, which carry none', () => {
    expect(() => indexerRoutePattern({ source: 's', detailTypes: ['compute_node.create', 'compute_node.update'], changedFields: ['vcpus'] })).toThrow(
      /only applies to compute_node.update .* compute_node.create/,
    );
  });

  it('rejects unknown and empty values', () => {
    expect(() => indexerRoutePattern({ source: 's', changedFields: ['nope'] })).toThrow(IndexerRouteError);
    expect(() => indexerRoutePattern({ source: 's', detailTypes: ['compute_node.resize' as never] })).toThrow(/unknown value 'compute_node.resize'/);
    expect(() => indexerRoutePattern({ source: 's', causes: [] })).toThrow(/empty/);
    expect(() => indexerRoutePattern({ source: ' ' })).toThrow(/source is empty/);
  });
});
