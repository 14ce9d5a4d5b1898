/**
 * The commands `npm start` suggests, to run from another terminal while it runs: each works
 * exactly as printed (`--local` finds the pipeline), and test/cli/local-tour.test.ts runs
 * each against a running local pipeline and checks its exit status.
 */
export const TRY_NEXT: readonly (readonly [command: string, what: string])[] = [
  ['npm run --silent cli -- query --local --hypervisor-type QEMU --min-free-vcpus 4', "the nodes with room, from the reference indexer's read model"],
  ['npm run --silent cli -- drift --local', 'how that read model differs from the table'],
  ['npm run --silent cli -- quarantine summary --local', "what the notifier refused (the simulator's deliberate bad writes)"],
  ['npm run --silent cli -- redrive --local --dry-run', 'what the batches Lambda gave up on would publish'],
  ['npm run --silent cli -- resync --local', 'refresh every node through the stream'],
  ['npm run smoke -- --local', 'the deployment check, hop by hop'],
];
