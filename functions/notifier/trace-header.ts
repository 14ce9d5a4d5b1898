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

/** Loads the Powertools Tracer (a parameter so a test can stand in a bundle without it). */
export type TracerLoader = () => Promise<typeof import('@aws-lambda-powertools/tracer')>;

const loadTracer: TracerLoader = () => import('@aws-lambda-powertools/tracer');

/**
 * At start-up, when tracing is on: Powertools Tracer records the SDK calls of the clients as
 * X-Ray subsegments, and the entries `eventBridge` puts get the trace header (a function that
 * puts no events, like the reference indexer, passes `undefined`). Loaded only when on, so a
 * function without tracing does not pay for the X-Ray SDK at its cold start; a bundle built
 * without tracing leaves the Tracer out altogether (infra/bundling-options.ts). If tracing was
 * turned on by hand on such a bundle, the function runs untraced and says why, rather than
 * failing to start and holding up the stream.
 *
 * @returns true when tracing is set up
 */
export async function setUpTracing(
  serviceName: string,
  eventBridge: EventBridgeClient | undefined,
  others: readonly object[] = [],
  opts: { load?: TracerLoader; warn?: (message: string) => void; env?: Record<string, string | undefined> } = {},
): Promise<boolean> {
  if (!tracingEnabled(opts.env)) return false;
  let Tracer: Awaited<ReturnType<TracerLoader>>['Tracer'];
  try {
    ({ Tracer } = await (opts.load ?? loadTracer)());
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    (opts.warn ?? ((m: string) => console.warn(m)))(
      `POWERTOOLS_TRACE_ENABLED is true but this bundle has no tracer (${why}); running untraced. Deploy with tracing: true to bundle it.`,
    );
    return false;
  }
  const tracer = new Tracer({ serviceName });
  for (const client of eventBridge === undefined ? others : [eventBridge, ...others]) tracer.captureAWSv3Client(client);
  if (eventBridge !== undefined) addTraceHeaders(eventBridge);
  return true;
}
