/**
 * Consumer accounts that manage their own rules on the notifications bus: a statement in the
 * bus's resource policy letting the given accounts (or every account of an organization) create,
 * change and delete rules on this bus, but only rules they created themselves
 * (`events:creatorAccount` = `${aws:PrincipalAccount}`) and only rules that select our events'
 * `source` (`events:source`): the EventBridge user guide's own example, "Example policy: Send
 * events to the same account and restrict updates" (eb-event-bus-example-policy-same-account-creator.html),
 * with the condition keys of "Using IAM policy conditions in Amazon EventBridge"
 * (eb-use-conditions.html). An organization is named with `aws:PrincipalOrgID` ("Permissions for
 * event buses", eb-event-bus-perms.html, organization example). And a statement in the schema
 * registry's resource policy letting the same principals read the schemas and download code
 * bindings (EventBridge user guide, "Resource-based policies for Amazon EventBridge schemas",
 * eb-resource-based-schemas.html, which lists the actions a registry policy can grant).
 */
import { Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventschemas from 'aws-cdk-lib/aws-eventschemas';
import { Construct } from 'constructs';

/** Options of `HypervisorNotifier`'s consumer accounts (one of them, or both). */
export interface ConsumerAccountsOptions {
  /** Account ids whose principals may manage their own rules on the bus and read the schema registry. @default - none */
  readonly consumerAccounts?: readonly string[];
  /** An AWS Organizations id (`o-…`) whose accounts may do the same. @default - none */
  readonly consumerOrganizationId?: string;
}

export interface ConsumerAccountsProps extends ConsumerAccountsOptions {
  /** The bus (of this stack's account and region). */
  readonly eventBus: events.IEventBus;
  /** The registry of the notifications' schemas. @default - none (`schemaRegistry: false`): the bus policy only */
  readonly registry?: eventschemas.CfnRegistry;
  /** The notifications' `source`: the only source a consumer's rule may select. */
  readonly eventSource: string;
}

/** What a consumer account may do to a rule on the bus (AWS's example list: create, update, delete, disable, enable, targets). */
export const CONSUMER_RULE_ACTIONS = [
  'events:DeleteRule',
  'events:DescribeRule',
  'events:DisableRule',
  'events:EnableRule',
  'events:PutRule',
  'events:PutTargets',
  'events:RemoveTargets',
] as const;

/**
 * What a consumer account may do with the schema registry: read the registry and its schemas,
 * and generate and download code bindings. `PutCodeBinding` is the one that writes: it generates
 * the binding of an existing schema version for a language (AWS creates bindings only on
 * request), changes no schema, and without it `GetCodeBindingSource` has nothing to return until
 * someone of our account generated that language.
 */
export const CONSUMER_SCHEMA_ACTIONS = [
  'schemas:DescribeCodeBinding',
  'schemas:DescribeRegistry',
  'schemas:DescribeSchema',
  'schemas:GetCodeBindingSource',
  'schemas:ListSchemaVersions',
  'schemas:ListSchemas',
  'schemas:PutCodeBinding',
  'schemas:SearchSchemas',
] as const;

/** Raised at synth for an invalid consumer-accounts option; the message names the option and the value. */
export class ConsumerAccountsError extends Error {
  override readonly name = 'ConsumerAccountsError';
}

/** The `Principal` and principal `Condition` of the statements, checked. */
function consumerPrincipal(options: ConsumerAccountsOptions, ownAccount: string | undefined, partition: string): { principal: { AWS: string | string[] }; orgCondition?: Record<string, string> } {
  const accounts = [...new Set(options.consumerAccounts ?? [])].sort();
  for (const a of accounts) {
    if (!/^\d{12}$/.test(a)) throw new ConsumerAccountsError(`consumerAccounts: '${a}' is not a 12-digit account id`);
    if (a === ownAccount) throw new ConsumerAccountsError(`consumerAccounts: '${a}' is this stack's own account, which needs no bus policy`);
  }
  const org = options.consumerOrganizationId;
  if (org !== undefined && !/^o-[a-z0-9]{10,32}$/.test(org)) throw new ConsumerAccountsError(`consumerOrganizationId: '${org}' is not an AWS Organizations id (o-xxxxxxxxxx)`);
  if (accounts.length > 0 && org !== undefined) {
    // One statement cannot say "these accounts OR this organization" (conditions are ANDed).
    throw new ConsumerAccountsError('set consumerAccounts or consumerOrganizationId, not both: list the accounts outside the organization in a stack of their own, or use the organization alone');
  }
  if (org !== undefined) return { principal: { AWS: '*' }, orgCondition: { 'aws:PrincipalOrgID': org } };
  if (accounts.length === 0) throw new ConsumerAccountsError('consumerAccounts is empty: give at least one account id, or leave it unset');
  const arns = accounts.map((a) => `arn:${partition}:iam::${a}:root`);
  return { principal: { AWS: arns.length === 1 ? arns[0]! : arns } };
}

export class ConsumerAccounts extends Construct {
  /** The bus policy statement (rules the consumers own). */
  readonly busPolicy: events.CfnEventBusPolicy;
  /** The schema registry's policy (read and code bindings); undefined without a registry. */
  readonly registryPolicy: eventschemas.CfnRegistryPolicy | undefined;

  constructor(scope: Construct, id: string, props: ConsumerAccountsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const own = stack.resolve(stack.account) as unknown;
    const { principal, orgCondition } = consumerPrincipal(props, typeof own === 'string' ? own : undefined, stack.partition);

    this.busPolicy = new events.CfnEventBusPolicy(this, 'ManageOwnRules', {
      eventBusName: props.eventBus.eventBusName,
      statementId: 'ConsumerAccountsManageOwnRules',
      statement: {
        Sid: 'ConsumerAccountsManageOwnRules',
        Effect: 'Allow',
        Principal: principal,
        Action: [...CONSUMER_RULE_ACTIONS],
        // Rules of this bus only: arn:…:rule/<bus name>/<rule name>.
        Resource: stack.formatArn({ service: 'events', resource: 'rule', resourceName: `${props.eventBus.eventBusName}/*` }),
        Condition: {
          StringEqualsIfExists: { 'events:creatorAccount': '${aws:PrincipalAccount}', 'events:source': props.eventSource },
          ...(orgCondition === undefined ? {} : { StringEquals: orgCondition }),
        },
      },
    });

    this.registryPolicy = props.registry === undefined ? undefined : this.readSchemas(props.registry, principal, orgCondition);
  }

  private readSchemas(registry: eventschemas.CfnRegistry, principal: { AWS: string | string[] }, orgCondition: Record<string, string> | undefined): eventschemas.CfnRegistryPolicy {
    const stack = Stack.of(this);
    const registryName = registry.attrRegistryName;
    return new eventschemas.CfnRegistryPolicy(this, 'ReadSchemas', {
      registryName,
      policy: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'ConsumerAccountsReadSchemas',
            Effect: 'Allow',
            Principal: principal,
            Action: [...CONSUMER_SCHEMA_ACTIONS],
            // The registry and its schemas, as the page says: both ARNs.
            Resource: [registry.attrRegistryArn, stack.formatArn({ service: 'schemas', resource: 'schema', resourceName: `${registryName}/*` })],
            ...(orgCondition === undefined ? {} : { Condition: { StringEquals: orgCondition } }),
          },
        ],
      },
    });
  }
}
