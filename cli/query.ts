/**
 * `query`: ask the reference indexer's read model which nodes fit.
 *
 *   npm run --silent cli -- query --hypervisor-type QEMU --min-free-vcpus 4 --limit 20 [--page TOKEN]
 *
 * Prints one JSON object: `{"nodes": [...], "next_page": TOKEN | null}` (integers exact).
 * Exit status 0, 1 when DynamoDB fails, 2 for a usage error (the message says which flag).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { INDEXER_ENV } from '../functions/indexer/indexer.js';
import { SORT_RESOURCES, type SortResource } from '../functions/indexer/indexer-table.js';
import { DEFAULT_LIMIT, describeQuery, MAX_LIMIT, QueryError, parseMinimum, type NodeQuery } from '../functions/indexer/query-plan.js';
import { REFERENCE_INDEXER_RESOLUTIONS } from '../functions/indexer/read-fields.js';
import { answerJson, queryNodes } from '../functions/indexer/store.js';
import { describeLastHeartbeat, readLastHeartbeat } from '../functions/indexer/heartbeat-store.js';
import { flaggedClientSettings } from './aws-endpoints.js';
import type { CliIo } from './cli-io.js';
import { parseCommandArgs, USAGE_ERROR } from './command-args.js';
import { errorLine } from './error-line.js';
import { LOCAL_FLAG_USAGE } from './local-pipeline.js';

const USAGE = `usage: query [--hypervisor-type TYPE] [--host HOST]
             [--min-free-vcpus N] [--min-free-ram-mb N] [--min-free-disk-gb N]
             [--sort free_vcpus|free_ram_mb|free_disk_gb] [--order desc|asc]
             [--limit N] [--page TOKEN] [--table TABLE] [--dynamodb-endpoint URL] [--region REGION]
  Nodes of the reference indexer's read model that match, sorted by the free resource
  (default: the first one with a minimum, else vCPUs; most free first, --order asc for best
  fit first), ${DEFAULT_LIMIT} per page (at most ${MAX_LIMIT}); pass next_page as --page for the next page.
  Table from --table or ${INDEXER_ENV.tableName}; endpoint from --dynamodb-endpoint or AWS_ENDPOINT_URL_DYNAMODB.
  ${LOCAL_FLAG_USAGE}`;

/** The resolution of each free resource in the read model: the indexer's declared one for the field it comes from. */
const READ_RESOLUTIONS: Partial<Record<SortResource, number>> = Object.fromEntries(
  SORT_RESOURCES.flatMap((r) => (r === 'free_vcpus' || REFERENCE_INDEXER_RESOLUTIONS[r] === undefined ? [] : [[r, REFERENCE_INDEXER_RESOLUTIONS[r]]])),
);

export interface QueryCommandOptions {
  readonly env?: Record<string, string | undefined>;
  readonly dynamodb?: DynamoDBClient;
}

export async function queryCommand(args: string[], io: CliIo, options: QueryCommandOptions = {}): Promise<number> {
  const env = options.env ?? process.env;
  let query: NodeQuery;
  let table: string | undefined;
  const parsed = parseCommandArgs(args, io, USAGE, {
    'hypervisor-type': { type: 'string' },
    host: { type: 'string' },
    'min-free-vcpus': { type: 'string' },
    'min-free-ram-mb': { type: 'string' },
    'min-free-disk-gb': { type: 'string' },
    sort: { type: 'string' },
    order: { type: 'string' },
    limit: { type: 'string' },
    page: { type: 'string' },
    table: { type: 'string' },
    'dynamodb-endpoint': { type: 'string' },
    region: { type: 'string' },
  });
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  try {
    const sort = values.sort;
    if (sort !== undefined && !SORT_RESOURCES.includes(sort as SortResource)) throw new QueryError(`--sort must be one of ${SORT_RESOURCES.join(', ')}, got ${sort}`);
    const order = values.order;
    if (order !== undefined && order !== 'asc' && order !== 'desc') throw new QueryError(`--order must be asc or desc, got ${order}`);
    const limit = values.limit === undefined ? undefined : Number(values.limit);
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT)) throw new QueryError(`--limit must be a whole number from 1 to ${MAX_LIMIT}, got ${values.limit}`);
    const min = (flag: string, text: string | undefined) => (text === undefined ? undefined : parseMinimum(flag, text));
    const minFreeVcpus = min('--min-free-vcpus', values['min-free-vcpus']);
    const minFreeRamMb = min('--min-free-ram-mb', values['min-free-ram-mb']);
    const minFreeDiskGb = min('--min-free-disk-gb', values['min-free-disk-gb']);
    query = {
      ...(values['hypervisor-type'] === undefined ? {} : { hypervisorType: values['hypervisor-type'] }),
      ...(values.host === undefined ? {} : { host: values.host }),
      ...(minFreeVcpus === undefined ? {} : { minFreeVcpus }),
      ...(minFreeRamMb === undefined ? {} : { minFreeRamMb }),
      ...(minFreeDiskGb === undefined ? {} : { minFreeDiskGb }),
      ...(sort === undefined ? {} : { sort: sort as SortResource }),
      ...(order === undefined ? {} : { order }),
      ...(limit === undefined ? {} : { limit }),
      ...(values.page === undefined ? {} : { page: values.page }),
    };
    table = values.table ?? env[INDEXER_ENV.tableName];
    if (table === undefined || table === '') throw new QueryError(`the indexer table is not set: --table or ${INDEXER_ENV.tableName}, or add --local to use a running npm start`);
  } catch (error) {
    io.stderr(`${(error as Error).message}\n`);
    return USAGE_ERROR;
  }

  let client = options.dynamodb;
  try {
    client ??= new DynamoDBClient(flaggedClientSettings('dynamodb', values, env));
    const answer = await queryNodes(client, table, query);
    // The read model's free RAM is as fresh as the indexer's declared resolution: say so with the answer (a failure is one line alone).
    io.stderr(`query: ${describeQuery(query, READ_RESOLUTIONS)}\n`);
    io.stdout(answerJson(answer) + '\n');
    // Whether the view is being fed at all: a quiet fleet still has its heartbeat.
    io.stderr(`query: ${describeLastHeartbeat(await readLastHeartbeat(client, table))}\n`);
    return 0;
  } catch (error) {
    if (error instanceof QueryError) {
      io.stderr(`${error.message}\n`);
      return USAGE_ERROR;
    }
    io.stderr(`query failed: ${errorLine(error)}\n`);
    return 1;
  } finally {
    if (options.dynamodb === undefined) client?.destroy();
  }
}
