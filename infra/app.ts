/**
 * The CDK app (`cdk.json`: `npx tsx infra/app.ts`). Configuration comes from the `context`
 * block of cdk.json (see infra/context.ts and infra/README-deploy.md).
 */
import { buildApp } from './build-app.js';

buildApp().app.synth();
