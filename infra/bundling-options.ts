/**
 * What a function's bundle holds and how Node starts it, decided by two opt-ins, both of
 * which cost cold-start time when on:
 *
 * - `sourceMaps`: stack traces name TypeScript files and lines instead of positions in the
 *   minified bundle. Node then reads and parses the whole map when it loads the bundle
 *   (nodejs/node#38817: "Node.js parses source-maps on loading the JavaScript sources", so it
 *   "can impact startup time"). Measured on the notifier (`npm run bench`, §5): the import + first
 *   event take about a third longer than the same bundle's without (193 against 143 ms). Off by default: the notifier's own
 *   errors name the field, the value and the rule, which a stack position would not add to.
 * - `tracing`: the Powertools Tracer and the X-Ray SDK are bundled only when tracing is on.
 *   Off, they are left out (a quarter of the notifier's bundle): the handlers import the
 *   Tracer dynamically and only when POWERTOOLS_TRACE_ENABLED is set
 *   (functions/notifier/trace-header.ts), so the import is never reached.
 * - `globalEndpoint` (the notifier's): the SigV4a signer (`@aws-sdk/signature-v4a`) is bundled
 *   only when the notifier publishes through a global endpoint. Off, it is left out, as the
 *   tracer is: the handler imports it only when GLOBAL_ENDPOINT_ID is set
 *   (functions/notifier/handler.ts). Bundled in, it would add 38 KB to every cold start's parse.
 */
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';

/** Every function's runtime: the newest Node.js Lambda runtime in this aws-cdk-lib (NODEJS_LATEST is a moving alias, avoided on purpose). */
export const FUNCTION_RUNTIME = lambda.Runtime.NODEJS_24_X;

/** Some bundled CommonJS dependencies call require() for Node built-ins: an ESM bundle defines it. */
export const ESM_REQUIRE_BANNER = "import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);";

/** Modules only a traced function loads. */
export const TRACING_ONLY_MODULES = ['@aws-lambda-powertools/tracer'] as const;

/** Modules only a notifier publishing through a global endpoint loads. */
export const GLOBAL_ENDPOINT_ONLY_MODULES = ['@aws-sdk/signature-v4a'] as const;

export interface BundleChoices {
  readonly sourceMaps: boolean;
  readonly tracing: boolean;
  /** The notifier publishes through a global endpoint (bundles the SigV4a signer). @default false */
  readonly globalEndpoint?: boolean;
}

/** The environment variables and bundling options of every function, with its opt-ins. */
export function bundlingOptions(choices: BundleChoices): {
  environment: Record<string, string>;
  bundling: Pick<nodejs.BundlingOptions, 'format' | 'mainFields' | 'banner' | 'minify' | 'sourceMap' | 'sourceMapMode' | 'externalModules'>;
} {
  // Everything else is bundled, AWS SDK v3 included: the pinned, tested version, tree-shaken
  // into one file, which starts faster than resolving the runtime's full SDK.
  const externalModules = [...(choices.tracing ? [] : TRACING_ONLY_MODULES), ...(choices.globalEndpoint === true ? [] : GLOBAL_ENDPOINT_ONLY_MODULES)];
  // ESM, preferring the SDK's and Powertools' ESM builds so esbuild can tree-shake them.
  const common = { format: nodejs.OutputFormat.ESM, mainFields: ['module', 'main'], banner: ESM_REQUIRE_BANNER, minify: true, externalModules };
  return choices.sourceMaps
    ? { environment: { NODE_OPTIONS: '--enable-source-maps' }, bundling: { ...common, sourceMap: true, sourceMapMode: nodejs.SourceMapMode.DEFAULT } }
    : { environment: {}, bundling: { ...common, sourceMap: false } };
}
