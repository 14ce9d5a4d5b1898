/**
 * Where the stack can be deployed. The supported regions are the commercial regions of the
 * `aws` partition; `npm test` lints every configuration's template for each of them with
 * cfn-lint (test/infra/cfn-lint.test.ts), whose region data (cfn-lint 1.51, from
 * CloudFormation's resource specifications per region) knows which resource types and Amazon
 * MQ instance types each region has. A few regions lack a resource some configuration needs:
 * those gaps are listed here, and synth fails with a clear message when the configured region
 * is one of them (infra/region-check.ts). China, GovCloud and the isolated partitions are not
 * supported: nothing here was checked against them.
 */

/** The commercial regions of the `aws` partition that the stack supports (docs/deploying.md, "Regions"). */
export const SUPPORTED_REGIONS = [
  'af-south-1',
  'ap-east-1',
  'ap-east-2',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ap-south-1',
  'ap-south-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-4',
  'ap-southeast-5',
  'ap-southeast-6',
  'ap-southeast-7',
  'ca-central-1',
  'ca-west-1',
  'eu-central-1',
  'eu-central-2',
  'eu-north-1',
  'eu-south-1',
  'eu-south-2',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'il-central-1',
  'me-central-1',
  'me-south-1',
  'mx-central-1',
  'sa-east-1',
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
] as const;

/** A resource some configuration needs that some supported regions lack. */
export interface RegionGap {
  /** What the configuration would create. */
  readonly resource: string;
  /** The cdk.json setting that turns it off or changes it. */
  readonly remedy: string;
  /** Supported regions without it (cfn-lint 1.51: E3006 for a resource type, E3670 for an instance type). */
  readonly missingIn: readonly string[];
}

/** EventBridge schema registries (AWS::EventSchemas::Registry and ::Schema). */
export const SCHEMA_REGISTRY_GAP: RegionGap = {
  resource: 'an EventBridge schema registry (AWS::EventSchemas::Registry)',
  remedy: 'set schemaRegistry to false',
  missingIn: ['ap-east-2', 'ap-south-2', 'ap-southeast-4', 'ap-southeast-5', 'ap-southeast-6', 'ap-southeast-7', 'ca-west-1', 'il-central-1', 'mx-central-1'],
};

/** EventBridge archives (AWS::Events::Archive). */
export const ARCHIVE_GAP: RegionGap = {
  resource: 'an EventBridge archive (AWS::Events::Archive)',
  remedy: 'set archive to false',
  missingIn: ['ca-west-1', 'mx-central-1'],
};

/** Amazon MQ's Graviton (m7g) broker instances, the new broker's default type. */
export const MQ_M7G_GAP: RegionGap = {
  resource: "an Amazon MQ broker of an mq.m7g instance type (the new broker's default)",
  remedy: 'set amqpBridge.brokerInstanceType to one the region offers (e.g. mq.m5.large)',
  missingIn: ['ca-west-1', 'eu-south-1'],
};

/** Amazon MQ's m5 broker instances (the other type of every region lacking m7g). */
export const MQ_M5_GAP: RegionGap = {
  resource: 'an Amazon MQ broker of an mq.m5 instance type',
  remedy: 'set amqpBridge.brokerInstanceType to one the region offers (e.g. mq.m7g.medium)',
  missingIn: ['ap-east-2', 'ap-southeast-6'],
};

/** The gap of an Amazon MQ instance type's family, if some supported region lacks it. */
export function mqInstanceGap(instanceType: string): RegionGap | undefined {
  if (instanceType.startsWith('mq.m7g.')) return MQ_M7G_GAP;
  if (instanceType.startsWith('mq.m5.')) return MQ_M5_GAP;
  return undefined;
}
