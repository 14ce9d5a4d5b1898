/**
 * The CDK app (`cdk.json`: `npx tsx infra/app.ts`). Configuration comes from the `context`
 * block of cdk.json (see infra/context.ts and docs/configuration.md).
 */
import { buildApp } from './build-app.js';
import { AppContextError } from './context.js';
import { ConfigurationError } from '../functions/notifier/errors.js';

try {
  buildApp().app.synth();
} catch (error) {
  // A configuration mistake is the user's to fix: one line that says which, not a stack trace.
  if (!(error instanceof AppContextError || error instanceof ConfigurationError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exitCode = 1;
}
