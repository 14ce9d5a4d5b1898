/**
 * Tracing, opt-in (POWERTOOLS_TRACE_ENABLED=true, set by the construct's `tracing` prop):
 * every PutEvents entry carries the invocation's X-Ray trace header (`TraceHeader`, the
 * `X-Amzn-Trace-Id` of the invocation), so EventBridge continues the trace to the rule
 * targets and an indexer's own trace joins the stream change that caused it (EventBridge
 * user guide, "Tracing with X-Ray": events put with a trace header carry it on).
 *
 * Added as client middleware, so the notifier's entry building and publishing stay the same
 * code, traced or not. The header is read per request: it changes with every invocation
 * (`_X_AMZN_TRACE_ID`, or the runtime's invoke store when invocations run concurrently).
 */
import type { EventBridgeClient, PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';

interface LambdaGlobal {
  awslambda?: { InvokeStore?: { getXRayTraceId(): string | undefined } };
}

/** The X-Ray trace header of the current invocation, if any. */
export function currentTraceHeader(env: Record<string, string | undefined> = process.env): string | undefined {
  const fromStore = (globalThis as LambdaGlobal).awslambda?.InvokeStore?.getXRayTraceId();
  const header = fromStore ?? env._X_AMZN_TRACE_ID;
  return header === undefined || header === '' ? undefined : header;
}

/** Makes `client` add the invocation's trace header to every PutEvents entry without one. */
export function addTraceHeaders(client: EventBridgeClient, header: () => string | undefined = currentTraceHeader): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { Entries?: PutEventsRequestEntry[] };
      const value = context.commandName === 'PutEventsCommand' ? header() : undefined;
      if (value === undefined || input.Entries === undefined) return next(args);
      // A copy: the notifier may send the same entries again on a retry, under another invocation.
      const Entries = input.Entries.map((e) => (e.TraceHeader === undefined ? { ...e, TraceHeader: value } : e));
      return next({ ...args, input: { ...input, Entries } });
    },
    { step: 'initialize', name: 'addTraceHeaders' },
  );
}

/** True when the deployment turned tracing on. */
export function tracingEnabled(env: Record<string, string | undefined> = process.env): boolean {
  return env.POWERTOOLS_TRACE_ENABLED === 'true';
}

/**
 * At start-up, when tracing is on: Powertools Tracer records the SDK calls of `clients` as
 * X-Ray subsegments, and PutEvents entries get the trace header. Loaded only when on, so a
 * function without tracing does not pay for the X-Ray SDK at its cold start.
 */
export async function setUpTracing(serviceName: string, eventBridge: EventBridgeClient, others: readonly object[] = []): Promise<void> {
  if (!tracingEnabled()) return;
  const { Tracer } = await import('@aws-lambda-powertools/tracer');
  const tracer = new Tracer({ serviceName });
  for (const client of [eventBridge, ...others]) tracer.captureAWSv3Client(client);
  addTraceHeaders(eventBridge);
}
