/**
 * Builds the bundled CDK app: validated context → stack → cdk-nag (AwsSolutions and
 * Serverless packs, cdk-nag 3 validation plugins: any unacknowledged finding fails synth).
 * Shared by `infra/app.ts` and the tests.
 */
import { App, type AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { parseAppContext, type AppContext } from './context.js';
import { HypervisorNotificationsStack } from './hypervisor-notifications-stack.js';

export interface BuiltApp {
  readonly app: App;
  readonly stack: HypervisorNotificationsStack;
  readonly config: AppContext;
  /** The rule packs registered on the app. */
  readonly nagPacks: readonly [AwsSolutionsChecks, ServerlessChecks];
}

export interface BuildAppOptions extends AppProps {
  /** Passed to the construct (tests). @default - functions/notifier/handler.ts */
  readonly entry?: string;
}

export function buildApp(options: BuildAppOptions = {}): BuiltApp {
  const { entry, ...appProps } = options;
  const app = new App(appProps);
  const config = parseAppContext(app.node.getAllContext());
  const stack = new HypervisorNotificationsStack(app, config.stackName, {
    config,
    description: 'Compute node change notifications: DynamoDB stream → notifier (Lambda) → EventBridge → indexers',
    ...(config.account === undefined || config.region === undefined ? {} : { env: { account: config.account, region: config.region } }),
    ...(entry === undefined ? {} : { entry }),
  });
  const nagPacks = [new AwsSolutionsChecks(app), new ServerlessChecks(app)] as const;
  Validations.of(app).addPlugins(...nagPacks);
  return { app, stack, config, nagPacks };
}
