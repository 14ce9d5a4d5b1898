/**
 * PutEvents to an event bus that does not exist answers success (aws/aws-sdk#186,
 * aws/aws-cli#9186): every notification would vanish while the metrics say "sent". What the
 * function can detect, it detects once per instance before it handles a record, and again
 * before each batch's heartbeat (notifier.ts; a bus deleted under a warm instance): it asks
 * `DescribeEventBus` for the configured bus, and a bus that does not exist is a
 * ConfigurationError naming it (the invocation fails, the Errors alarm fires, and the stream
 * is retried from the same record once the bus exists).
 *
 * Not detectable this way, and so not checked: a bus in another account (DescribeEventBus
 * needs that bus's resource policy to allow it; PutEvents needs only events:PutEvents), or
 * a bus deleted between two heartbeats (the next heartbeat finds it; what was sent meanwhile is lost).
 */
import { DescribeEventBusCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { ConfigurationError } from './errors.js';

export type BusCheck =
  | { readonly kind: 'exists'; readonly arn: string | undefined }
  /** The check could not decide (access denied, network): records are handled anyway. */
  | { readonly kind: 'unverified'; readonly reason: string; readonly retry: boolean };

const errorName = (error: unknown) => (typeof error === 'object' && error !== null ? String((error as { name?: unknown }).name) : '');
const accountOf = (arn: string | undefined) => (arn?.startsWith('arn:') ? arn.split(':')[4] : undefined);
const regionOf = (arn: string | undefined) => (arn?.startsWith('arn:') ? arn.split(':')[3] : undefined);

/**
 * Asks EventBridge whether `bus` (a name or an ARN) exists. Throws ConfigurationError when
 * it does not. `functionArn` (Lambda's `invokedFunctionArn`), when known, lets a bus ARN of
 * another account be recognised and left unchecked.
 */
export async function checkEventBus(client: EventBridgeClient, bus: string, functionArn?: string): Promise<BusCheck> {
  const busAccount = accountOf(bus);
  const ownAccount = accountOf(functionArn);
  if (busAccount !== undefined && ownAccount !== undefined && busAccount !== ownAccount) {
    return { kind: 'unverified', reason: `the bus is in account ${busAccount}, not this function's (${ownAccount})`, retry: false };
  }
  try {
    const out = await client.send(new DescribeEventBusCommand({ Name: bus }));
    return { kind: 'exists', arn: out.Arn };
  } catch (error) {
    const name = errorName(error);
    if (name === 'ResourceNotFoundException') {
      throw new ConfigurationError(
        `EVENT_BUS_NAME: the event bus '${bus}' does not exist (DescribeEventBus: ${error instanceof Error ? error.message : name}); PutEvents would answer success and every notification would be lost`,
      );
    }
    // A name (or an ARN of this region) outside EventBridge's pattern: PutEvents refuses every
    // request for it with the same ValidationException, and the publisher, taking that for the
    // entries' content, would quarantine every valid record. An ARN of another region is left
    // alone: with a global endpoint it may name the secondary's bus, which this region cannot describe.
    if (name === 'ValidationException' && (regionOf(bus) === undefined || regionOf(bus) === regionOf(functionArn))) {
      throw new ConfigurationError(
        `EVENT_BUS_NAME: EventBridge refuses '${bus}' as an event bus name or ARN (DescribeEventBus: ValidationException: ${error instanceof Error ? error.message : name}); every PutEvents would be refused the same way`,
      );
    }
    // Access denied stays denied for this instance; anything else may pass next time.
    const denied = name === 'AccessDeniedException' || name === 'AccessDenied';
    return { kind: 'unverified', reason: `${name}: ${error instanceof Error ? error.message : String(error)}`, retry: !denied };
  }
}
