/**
 * The deployment the smoke test checks: the outputs of the bundled stack (CloudFormation
 * DescribeStacks), or the same values given as flags (the local pipeline has no stack).
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { z } from 'zod';
import { SPEC_WATCHED_FIELDS } from '../functions/notifier/contract/index.js';
import type { SmokeTarget } from './run-smoke.js';

const list = (text: string) => text.split(',').map((s) => s.trim()).filter((s) => s !== '');

/** The outputs `HypervisorNotificationsStack` declares that the check reads. */
const StackOutputs = z.object({
  TableName: z.string().min(1),
  TableStreamArn: z.string().optional(),
  EventBusArn: z.string().min(1),
  EventSource: z.string().min(1),
  FunctionName: z.string().min(1),
  /** Present from the version that lets consumers add watched fields; the spec's nine before. */
  WatchedFields: z.string().optional(),
});

/** Reads the stack's outputs; throws naming the stack, or the missing outputs. */
export async function targetFromStack(client: CloudFormationClient, stackName: string): Promise<SmokeTarget> {
  const stacks = (await client.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks ?? [];
  const stack = stacks[0];
  if (stack === undefined) throw new Error(`stack ${stackName} not found`);
  if (!/_COMPLETE$/.test(stack.StackStatus ?? '') || /ROLLBACK|DELETE/.test(stack.StackStatus ?? '')) {
    throw new Error(`stack ${stackName} is ${stack.StackStatus}: deploy it first (npx cdk deploy)`);
  }
  const outputs = Object.fromEntries((stack.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']));
  const parsed = StackOutputs.safeParse(outputs);
  if (!parsed.success) {
    throw new Error(`stack ${stackName} lacks the outputs ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}: is it the HypervisorNotifications stack of this repository?`);
  }
  const o = parsed.data;
  return {
    tableName: o.TableName,
    ...(o.TableStreamArn === undefined || o.TableStreamArn === '' ? {} : { streamArn: o.TableStreamArn }),
    bus: o.EventBusArn,
    source: o.EventSource,
    functionName: o.FunctionName,
    watchedFields: o.WatchedFields === undefined ? [...SPEC_WATCHED_FIELDS] : list(o.WatchedFields),
  };
}

/** The target given as flags (`--table`, `--bus`, ...), as for the local pipeline. */
export function targetFromFlags(values: { table: string; bus?: string | undefined; source?: string | undefined; 'stream-arn'?: string | undefined; function?: string | undefined; 'watched-fields'?: string | undefined }): SmokeTarget {
  if (values.bus === undefined) throw new Error('--bus is required with --table');
  return {
    tableName: values.table,
    bus: values.bus,
    source: values.source ?? 'openstack.nova',
    ...(values['stream-arn'] === undefined ? {} : { streamArn: values['stream-arn'] }),
    ...(values.function === undefined ? {} : { functionName: values.function }),
    watchedFields: values['watched-fields'] === undefined ? [...SPEC_WATCHED_FIELDS] : list(values['watched-fields']),
  };
}
