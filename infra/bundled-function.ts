/**
 * A Node.js Lambda function bundled like the notifier: arm64, the newest Node.js runtime of
 * this aws-cdk-lib, ESM, minified (source maps and the tracer only when asked for:
 * infra/bundling-options.ts), the AWS SDK bundled (the tested version,
 * tree-shaken), its own log group and its own role (no managed policies: callers add exactly
 * what it needs; a VPC-attached function gets the network interface actions Lambda needs).
 */
import * as path from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { FUNCTION_RUNTIME, bundlingOptions } from './bundling-options.js';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The EC2 actions Lambda needs on a VPC-attached function's role (configuration-vpc). */
export const VPC_EXECUTION_ACTIONS = [
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
] as const;

export interface BundledFunctionProps {
  readonly entry: string;
  readonly description: string;
  /** Role description. */
  readonly roleDescription: string;
  readonly environment: Record<string, string>;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly logRetention: logs.RetentionDays;
  readonly reservedConcurrentExecutions?: number;
  /** Active X-Ray tracing (and POWERTOOLS_TRACE_ENABLED for the handler's Tracer). @default false */
  readonly tracing?: boolean;
  /** Source-mapped stack traces (infra/bundling-options.ts: costs cold-start time). @default false */
  readonly sourceMaps?: boolean;
  /**
   * Let Lambda invoke the function in a loop through its own queue (RecursiveLoop: Allow; give
   * it only to a function that bounds its own chain). @default false (Lambda stops a loop after about 16 invocations)
   */
  readonly allowRecursiveLoop?: boolean;
  /** Attach the function to a VPC (subnets and security groups). @default - not in a VPC */
  readonly network?: Pick<lambda.FunctionProps, 'vpc' | 'vpcSubnets' | 'securityGroups' | 'allowPublicSubnet'>;
}

export class BundledFunction extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: BundledFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'LogGroup', { retention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY });
    this.role = new iam.Role(this, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'), description: props.roleDescription });
    const opted = bundlingOptions({ sourceMaps: props.sourceMaps === true, tracing: props.tracing === true });
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      runtime: FUNCTION_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      description: props.description,
      ...(props.reservedConcurrentExecutions === undefined ? {} : { reservedConcurrentExecutions: props.reservedConcurrentExecutions }),
      ...(props.tracing === true ? { tracing: lambda.Tracing.ACTIVE } : {}),
      ...(props.network ?? {}),
      ...(props.allowRecursiveLoop === true ? { recursiveLoop: lambda.RecursiveLoop.ALLOW } : {}),
      environment: { ...props.environment, ...(props.tracing === true ? { POWERTOOLS_TRACE_ENABLED: 'true' } : {}), ...opted.environment },
      bundling: { ...opted.bundling, forceDockerBundling: false },
    });
    this.allow('WriteOwnLogs', ['logs:CreateLogStream', 'logs:PutLogEvents'], [this.logGroup.logGroupArn]);
    // CDK attaches AWSLambdaVPCAccessExecutionRole only to a role it creates; this one is ours,
    // so it gets what Lambda lists for a VPC-attached function's role (the managed policy's
    // actions, logs aside): without them CreateFunction fails. The Describe actions work only on
    // "*" (Lambda developer guide, "Giving Lambda functions access to resources in an Amazon VPC",
    // https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html). The function
    // resource depends on the role and its default policy (CDK), so the grant exists first.
    if (props.network !== undefined) this.allow('ManageVpcNetworkInterfaces', [...VPC_EXECUTION_ACTIONS], ['*']);
  }

  /** Adds one statement to the role. */
  allow(sid: string, actions: string[], resources: string[]): void {
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid, actions, resources }));
  }
}
