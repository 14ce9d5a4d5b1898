/**
 * An EventBridge global endpoint in front of the notifications bus: the notifier puts events
 * through it (PutEvents `EndpointId`, signed with SigV4a), EventBridge sends them to the bus of
 * the same name in the secondary region when the primary's Route 53 health check fails, and,
 * with event replication, copies every event to the secondary bus all the time, so the secondary
 * region's rules and archive are current when it takes over (EventBridge user guide, "Making
 * applications Regional-fault tolerant with global endpoints", eb-global-endpoints.html;
 * "Creating a global endpoint", eb-ge-create-endpoint.html).
 *
 * The secondary region must hold a bus of the same name with the same rules and routes: deploy
 * a second instance of this stack there, with the same `eventBusName` (docs/cross-account.md).
 */
import { Duration, Names, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';

/** The `globalEndpoint` option of `HypervisorNotifier`. */
export interface GlobalEndpointOptions {
  /** The region EventBridge fails over to; it must hold a bus of the same name (a second instance of the stack). */
  readonly secondaryRegion: string;
  /**
   * ARN of the Route 53 health check that decides failover
   * (`arn:aws:route53:::healthcheck/<id>`).
   * @default - one the construct creates, as AWS's template does: a CloudWatch alarm on the bus's
   *   average `IngestionToInvocationStartLatency` above 30 s for 5 minutes, missing data breaching
   */
  readonly healthCheckArn?: string;
  /** Name of the endpoint (1–64 of `A-Za-z0-9._-`). @default - derived from the construct path */
  readonly endpointName?: string;
}

export interface GlobalEndpointProps extends GlobalEndpointOptions {
  /** The primary bus; its name must be known at synth (the secondary bus has the same name). */
  readonly eventBus: events.IEventBus;
}

/** Raised at synth for a global endpoint that cannot work; the message says what to set. */
export class GlobalEndpointError extends Error {
  override readonly name = 'GlobalEndpointError';
}

export class GlobalEndpoint extends Construct {
  readonly endpoint: events.CfnEndpoint;
  /** The `EndpointId` the notifier passes to PutEvents (GLOBAL_ENDPOINT_ID). */
  readonly endpointId: string;
  /** The role EventBridge uses to replicate events to the secondary bus. */
  readonly replicationRole: iam.Role;
  /** The secondary bus's ARN (same name, secondary region). */
  readonly secondaryBusArn: string;
  /** The health-check alarm, when the construct created the health check. */
  readonly healthAlarm: cloudwatch.Alarm | undefined;

  constructor(scope: Construct, id: string, props: GlobalEndpointProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const busName = literalBusName(props.eventBus);
    if (busName === undefined) {
      throw new GlobalEndpointError('globalEndpoint needs the bus name at synth, the same in both regions: set eventBusName (or an existing bus by name or ARN)');
    }
    if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(props.secondaryRegion)) {
      throw new GlobalEndpointError(`globalEndpoint.secondaryRegion: '${props.secondaryRegion}' is not a region name (e.g. us-east-1)`);
    }
    if (!Token.isUnresolved(stack.region) && stack.region === props.secondaryRegion) {
      throw new GlobalEndpointError(`globalEndpoint.secondaryRegion is the stack's own region ${stack.region}: name another region`);
    }
    if (props.healthCheckArn !== undefined && !/^arn:aws([a-z]|-)*:route53:::healthcheck\/[-a-z0-9]+$/.test(props.healthCheckArn)) {
      throw new GlobalEndpointError(`globalEndpoint.healthCheckArn: '${props.healthCheckArn}' is not a Route 53 health check ARN (arn:aws:route53:::healthcheck/<id>)`);
    }
    this.secondaryBusArn = stack.formatArn({ service: 'events', region: props.secondaryRegion, resource: 'event-bus', resourceName: busName });

    let healthCheckArn = props.healthCheckArn;
    this.healthAlarm = undefined;
    if (healthCheckArn === undefined) {
      // AWS's template for a global endpoint's health check (eb-ge-cfn.html): average latency
      // from ingestion to target invocation above 30 s for 5 one-minute periods; missing data
      // breaching, because a region that is gone reports nothing. The heartbeat (one event a
      // minute, matched by the archive's rule) keeps the metric reported in quiet hours.
      this.healthAlarm = new cloudwatch.Alarm(this, 'LatencyAlarm', {
        alarmDescription: `Global endpoint health: EventBridge in ${stack.region} takes over 30 s to deliver events (or reports nothing); Route 53 then fails the endpoint over to ${props.secondaryRegion}.`,
        metric: new cloudwatch.Metric({ namespace: 'AWS/Events', metricName: 'IngestionToInvocationStartLatency', statistic: 'Average', period: Duration.minutes(1) }),
        threshold: 30_000,
        evaluationPeriods: 5,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      });
      const check = new route53.CfnHealthCheck(this, 'HealthCheck', {
        healthCheckConfig: {
          type: 'CLOUDWATCH_METRIC',
          alarmIdentifier: { name: this.healthAlarm.alarmName, region: stack.region },
          insufficientDataHealthStatus: 'Unhealthy',
        },
      });
      healthCheckArn = `arn:${stack.partition}:route53:::healthcheck/${check.attrHealthCheckId}`;
    }

    // EventBridge replicates with this role: PutEvents on the two buses of that name, nothing else
    // ("Creating a global endpoint", eb-ge-create-endpoint.html, event replication).
    this.replicationRole = new iam.Role(this, 'ReplicationRole', {
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com'),
      description: `EventBridge global endpoint: replicate events between the ${busName} buses`,
    });
    this.replicationRole.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'ReplicateToBothBuses', actions: ['events:PutEvents'], resources: [props.eventBus.eventBusArn, this.secondaryBusArn] }),
    );

    this.endpoint = new events.CfnEndpoint(this, 'Endpoint', {
      name: props.endpointName ?? Names.uniqueResourceName(this, { maxLength: 64, separator: '-' }),
      description: `Compute node notifications: ${stack.region} with failover to ${props.secondaryRegion}`,
      eventBuses: [{ eventBusArn: props.eventBus.eventBusArn }, { eventBusArn: this.secondaryBusArn }],
      routingConfig: { failoverConfig: { primary: { healthCheck: healthCheckArn }, secondary: { route: props.secondaryRegion } } },
      replicationConfig: { state: 'ENABLED' },
      roleArn: this.replicationRole.roleArn,
    });
    this.endpointId = this.endpoint.attrEndpointId;
  }

  /**
   * Lets `role` put events through the endpoint: on the primary bus and, for when EventBridge has
   * failed over, on the secondary bus of the same name.
   */
  grantPutEvents(role: iam.IRole): void {
    role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'PublishThroughGlobalEndpoint', actions: ['events:PutEvents'], resources: [this.secondaryBusArn] }));
  }
}

/** The bus's name when it is known at synth: a bus of this app with a literal name, or one imported by a literal name or ARN. */
function literalBusName(bus: events.IEventBus): string | undefined {
  const cfn = bus.node.defaultChild;
  if (cfn instanceof events.CfnEventBus) return Token.isUnresolved(cfn.name) ? undefined : cfn.name;
  if (!Token.isUnresolved(bus.eventBusName)) return bus.eventBusName;
  if (!Token.isUnresolved(bus.eventBusArn)) return bus.eventBusArn.split(':event-bus/')[1];
  return undefined;
}
