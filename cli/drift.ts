/**
 * `drift`: compare the reference indexer's read model with the compute node table.
 *
 *   npm run --silent cli -- drift --table TABLE --indexer-table INDEX_TABLE [--fields f1,f2] [--resolutions f=n,...|exact]
 *
 * Prints one line per node that differs (missing, extra, stale with each field, invalid) and
 * a summary line; exit status 0 when nothing differs, 1 when something does, 2 for a usage
 * error, 3 when DynamoDB fails. Against AWS: the stack outputs `TableName` and
 * `IndexerTableName`; locally: `npm start` prints both and the DynamoDB Local endpoint.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ENV } from '../functions/notifier/config.js';
import { INDEXER_ENV } from '../functions/indexer/indexer.js';
import {
  checkDrift,
  DEFAULT_DRIFT_FIELDS,
  DEFAULT_DRIFT_RESOLUTIONS,
  describeDrift,
  DriftFieldsError,
  parseDriftFields,
  parseDriftResolutions,
  summarizeDrift,
} from '../functions/indexer/drift.js';
import { formatResolutions } from '../functions/notifier/field-resolution.js';
import { describeLastHeartbeat, readLastHeartbeat } from '../functions/indexer/heartbeat-store.js';
import { flaggedClientSettings } from './aws-endpoints.js';
import type { CliIo } from './cli-io.js';
import { parseCommandArgs, USAGE_ERROR } from './command-args.js';
import { errorLine } from './error-line.js';
import { LOCAL_FLAG_USAGE } from './local-pipeline.js';

export const DRIFT_TABLE_ENV = 'TABLE_NAME';

const USAGE = `usage: drift [--table TABLE] [--indexer-table TABLE] [--fields f1,f2,...]
             [--resolutions f=n,...|exact] [--dynamodb-endpoint URL] [--region REGION]
  Compares every node of the compute node table (--table or ${DRIFT_TABLE_ENV}; stack output
  TableName) with the reference indexer's read model (--indexer-table or ${INDEXER_ENV.tableName};
  stack output IndexerTableName): prints each node that is missing, extra, or stale (with the
  fields that differ), and exits 1 when any does. Fields compared: --fields, else
  ${ENV.watchedFields}, else ${DEFAULT_DRIFT_FIELDS.join(',')}. A field read at a resolution is
  stale only when it differs by that much or more: --resolutions (exact: none), else
  ${ENV.watchedFieldResolutions}, else the reference indexer's (${formatResolutions(DEFAULT_DRIFT_RESOLUTIONS)}).
  Endpoint from --dynamodb-endpoint or AWS_ENDPOINT_URL_DYNAMODB (DynamoDB Local: npm start prints it).
  Exit status: 0 no drift, 1 drift, 2 usage error, 3 DynamoDB failed.
  ${LOCAL_FLAG_USAGE}`;

export interface DriftCommandOptions {
  readonly env?: Record<string, string | undefined>;
  readonly dynamodb?: DynamoDBClient;
}

export async function driftCommand(args: string[], io: CliIo, options: DriftCommandOptions = {}): Promise<number> {
  const env = options.env ?? process.env;
  const parsed = parseCommandArgs(args, io, USAGE, {
    table: { type: 'string' },
    'indexer-table': { type: 'string' },
    fields: { type: 'string' },
    resolutions: { type: 'string' },
    'dynamodb-endpoint': { type: 'string' },
    region: { type: 'string' },
  });
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  const configError = (why: string) => {
    io.stderr(`${why}\n`);
    return USAGE_ERROR;
  };
  const table = values.table ?? env[DRIFT_TABLE_ENV];
  const indexerTable = values['indexer-table'] ?? env[INDEXER_ENV.tableName];
  if (table === undefined || table === '') return configError(`the compute node table is not set: --table or ${DRIFT_TABLE_ENV}, or add --local to use a running npm start`);
  if (indexerTable === undefined || indexerTable === '') return configError(`the indexer table is not set: --indexer-table or ${INDEXER_ENV.tableName}, or add --local to use a running npm start`);
  const fieldText = values.fields ?? env[ENV.watchedFields];
  let fields;
  let resolutions;
  try {
    fields = fieldText === undefined || fieldText === '' ? DEFAULT_DRIFT_FIELDS : parseDriftFields(fieldText);
    const resolutionText = values.resolutions ?? env[ENV.watchedFieldResolutions];
    resolutions = resolutionText === undefined || resolutionText === '' ? DEFAULT_DRIFT_RESOLUTIONS : parseDriftResolutions(resolutionText);
  } catch (error) {
    if (!(error instanceof DriftFieldsError)) throw error;
    return configError(error.message);
  }

  let client = options.dynamodb;
  try {
    client ??= new DynamoDBClient(flaggedClientSettings('dynamodb', values, env));
    const report = await checkDrift(client, { tableName: table, indexerTableName: indexerTable, fields, resolutions });
    for (const d of report.differences) io.stdout(describeDrift(d) + '\n');
    io.stdout(summarizeDrift(report) + '\n');
    // Whether the read model is being fed at all (a quiet fleet still has its heartbeat).
    io.stdout(`drift: ${describeLastHeartbeat(await readLastHeartbeat(client, indexerTable))}\n`);
    return report.differences.length === 0 ? 0 : 1;
  } catch (error) {
    io.stderr(`drift check failed: ${errorLine(error)}\n`);
    return 3;
  } finally {
    if (options.dynamodb === undefined) client?.destroy();
  }
}
