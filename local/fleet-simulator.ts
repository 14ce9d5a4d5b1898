/**
 * A fleet of compute nodes writing to the table the way Nova's resource tracker does:
 * nodes appear (PutItem with every ComputeNode field), report usage every few seconds (most
 * reports change only `memory_mb_used`/`free_ram_mb`, watched only when a consumer reads them
 * as the reference indexer does, or nothing at all, which DynamoDB turns into no stream record),
 * instances boot and go away (watched
 * `vcpus_used`, `running_vms`, `local_gb_used`, `disk_available_least` change; a boot counts
 * in `current_workload` until a later report settles it), nodes are
 * soft-deleted (`deleted` set to the node's id, as Nova does), come back, or are
 * hard-deleted (DeleteItem), and now and then a write is invalid (a fraction in `vcpus`) so
 * the quarantine sees traffic.
 *
 * Deterministic: every decision comes from a PRNG seeded with `seed`, in tick order, so the
 * same seed gives the same sequence of writes (wall-clock times aside).
 *
 * @example
 * ```ts
 * const fleet = new FleetSimulator({ client, tableName, nodes: 20, seed: 7 });
 * fleet.start();        // a tick every 250 ms
 * await fleet.stop();
 * // or, in tests: await fleet.step();
 * ```
 */
import { DeleteItemCommand, PutItemCommand, UpdateItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { seededRandom } from './seeded-random.js';

export type WriteKind = 'create' | 'report' | 'noop' | 'boot' | 'settle' | 'terminate' | 'invalid' | 'repair' | 'soft_delete' | 'undelete' | 'hard_delete';

export interface FleetWrite {
  readonly kind: WriteKind;
  readonly uuid: string;
  readonly host: string;
  /** Epoch ms when the write was sent. */
  readonly at: number;
}

export interface FleetOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Live nodes to keep. @default 20 */
  readonly nodes?: number;
  /** @default 1 */
  readonly seed?: number;
  /** @default 250 */
  readonly tickMs?: number;
  /** A node reports every this many ticks, ± a quarter. @default 12 (3 s) */
  readonly reportEveryTicks?: number;
  /** Share of reports written invalid. @default 0.01 */
  readonly invalidWriteRate?: number;
  /** Chance per tick of a node lifecycle event (soft delete, undelete, hard delete). @default 0.05 */
  readonly lifecycleRate?: number;
  /**
   * Reports move `memory_mb_used`/`free_ram_mb` by the hypervisor's overhead (measured usage).
   * Off: Nova's allocation semantics, where usage moves only when instances boot or stop and
   * such a report writes nothing (the same PRNG draws, so the two runs differ only there).
   * @default true
   */
  readonly overheadDrift?: boolean;
  readonly onWrite?: (write: FleetWrite) => void;
  readonly onError?: (error: unknown) => void;
  readonly now?: () => number;
}

export { seededRandom };

interface Instance {
  readonly vcpus: number;
  readonly ramMb: number;
  readonly diskGb: number;
}

interface SimNode {
  readonly id: number;
  readonly uuid: string;
  readonly host: string;
  readonly hostIp: string;
  readonly vcpus: number;
  readonly memoryMb: number;
  readonly localGb: number;
  readonly hypervisorVersion: number;
  readonly createdAt: string;
  instances: Instance[];
  /** Memory used outside instances (hypervisor, qemu overhead): what usage reports move. */
  overheadMb: number;
  currentWorkload: number;
  deleted: boolean;
  /** The last write put a fraction in `vcpus`. */
  invalid: boolean;
  updatedAt: string;
  nextReport: number;
}

const FLAVORS: readonly Instance[] = [
  { vcpus: 1, ramMb: 2048, diskGb: 20 },
  { vcpus: 2, ramMb: 4096, diskGb: 40 },
  { vcpus: 4, ramMb: 8192, diskGb: 80 },
  { vcpus: 8, ramMb: 16384, diskGb: 160 },
];
const SHAPES = [
  { vcpus: 32, memoryMb: 131072, localGb: 1024 },
  { vcpus: 48, memoryMb: 196608, localGb: 1787 },
  { vcpus: 64, memoryMb: 262144, localGb: 3576 },
  { vcpus: 96, memoryMb: 393216, localGb: 3576 },
  { vcpus: 128, memoryMb: 524288, localGb: 7152 },
] as const;
const RESERVED_HOST_MEMORY_MB = 512;
const HYPERVISOR_VERSIONS = [6002000, 8000000, 9000000] as const;

export class FleetSimulator {
  private readonly random: () => number;
  private readonly live: SimNode[] = [];
  private readonly softDeleted: SimNode[] = [];
  private nextId = 1;
  private tick = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  readonly stats: { writes: number; byKind: Record<WriteKind, number>; errors: number } = {
    writes: 0,
    byKind: { create: 0, report: 0, noop: 0, boot: 0, settle: 0, terminate: 0, invalid: 0, repair: 0, soft_delete: 0, undelete: 0, hard_delete: 0 },
    errors: 0,
  };

  constructor(private readonly opts: FleetOptions) {
    this.random = seededRandom(opts.seed ?? 1);
  }

  private get now(): number {
    return (this.opts.now ?? Date.now)();
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)]!;
  }

  private int(min: number, max: number): number {
    return min + Math.floor(this.random() * (max - min + 1));
  }

  private uuid(): string {
    const hex = Array.from({ length: 32 }, () => Math.floor(this.random() * 16).toString(16)).join('');
    // Version 4, RFC 4122 variant.
    const v = `${hex.slice(0, 12)}4${hex.slice(13, 16)}${((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)}${hex.slice(17)}`;
    return `${v.slice(0, 8)}-${v.slice(8, 12)}-${v.slice(12, 16)}-${v.slice(16, 20)}-${v.slice(20)}`;
  }

  private newNode(): SimNode {
    const id = this.nextId++;
    const shape = this.pick(SHAPES);
    const at = new Date(this.now).toISOString();
    const node: SimNode = {
      id,
      uuid: this.uuid(),
      host: `compute-${String(id).padStart(2, '0')}`,
      hostIp: `10.0.${Math.floor(id / 250)}.${(id % 250) + 1}`,
      ...shape,
      hypervisorVersion: this.pick(HYPERVISOR_VERSIONS),
      createdAt: at,
      instances: [],
      overheadMb: this.int(300, 900),
      currentWorkload: 0,
      deleted: false,
      invalid: false,
      updatedAt: at,
      nextReport: this.tick + this.int(1, this.reportEvery),
    };
    const boots = this.int(0, 6);
    for (let i = 0; i < boots; i++) this.boot(node);
    return node;
  }

  private get reportEvery(): number {
    return this.opts.reportEveryTicks ?? 12;
  }

  private boot(node: SimNode): boolean {
    const flavor = this.pick(FLAVORS);
    const u = usage(node);
    if (u.vcpusUsed + flavor.vcpus > node.vcpus || u.memoryMbUsed + flavor.ramMb > node.memoryMb || u.localGbUsed + flavor.diskGb > node.localGb) return false;
    node.instances.push(flavor);
    return true;
  }

  /** The live nodes' uuids (for tests and the banner). */
  get nodeIds(): string[] {
    return this.live.map((n) => n.uuid);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const loop = async () => {
      if (this.stopped) return;
      this.running = this.step().catch((error: unknown) => {
        this.stats.errors++;
        this.opts.onError?.(error);
      });
      await this.running;
      if (!this.stopped) this.timer = setTimeout(() => void loop(), this.opts.tickMs ?? 250);
    };
    void loop();
  }

  /** Stops ticking; waits for the writes in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One tick: decides every write of the tick (from the PRNG), then sends them, in order per node. */
  async step(): Promise<void> {
    const plan = this.plan();
    this.tick++;
    const byNode = new Map<string, (() => Promise<void>)[]>();
    for (const w of plan) {
      const list = byNode.get(w.uuid) ?? [];
      list.push(w.send);
      byNode.set(w.uuid, list);
    }
    await Promise.all(
      [...byNode.values()].map(async (sends) => {
        for (const send of sends) await send();
      }),
    );
  }

  private plan(): { uuid: string; send: () => Promise<void> }[] {
    const plan: { uuid: string; send: () => Promise<void> }[] = [];
    const target = this.opts.nodes ?? 20;

    // Lifecycle first: a node goes away or comes back.
    if (this.tick > 0 && this.random() < (this.opts.lifecycleRate ?? 0.05)) {
      const roll = this.random();
      if (roll < 0.4 && this.live.length > 0) {
        const node = this.live.splice(Math.floor(this.random() * this.live.length), 1)[0]!;
        node.deleted = true;
        this.softDeleted.push(node);
        plan.push(this.write(node, 'soft_delete'));
      } else if (roll < 0.6 && this.softDeleted.length > 0) {
        const node = this.softDeleted.splice(Math.floor(this.random() * this.softDeleted.length), 1)[0]!;
        if (this.random() < 0.5) {
          node.deleted = false;
          node.nextReport = this.tick + this.int(1, this.reportEvery);
          this.live.push(node);
          plan.push(this.write(node, 'undelete'));
        } else {
          // Nova's archive/purge removes the soft-deleted row: a REMOVE the notifier ignores.
          plan.push(this.write(node, 'hard_delete'));
        }
      } else if (this.live.length > 0) {
        const node = this.live.splice(Math.floor(this.random() * this.live.length), 1)[0]!;
        plan.push(this.write(node, 'hard_delete'));
      }
    }
    // Keep the fleet at its size: new nodes appear.
    while (this.live.length < target) {
      const node = this.newNode();
      this.live.push(node);
      plan.push(this.write(node, 'create'));
    }
    // Reports due this tick.
    for (const node of this.live) {
      if (node.nextReport > this.tick) continue;
      const spread = Math.max(1, Math.floor(this.reportEvery / 4));
      node.nextReport = this.tick + this.reportEvery + this.int(-spread, spread);
      plan.push(this.write(node, this.report(node)));
    }
    return plan;
  }

  /** Decides what one usage report changes, and changes it. */
  private report(node: SimNode): WriteKind {
    if (node.invalid) {
      node.invalid = false;
      return 'repair';
    }
    if (this.random() < (this.opts.invalidWriteRate ?? 0.01)) {
      node.invalid = true;
      return 'invalid';
    }
    // A boot in progress counts in current_workload (watched) until it settles.
    if (node.currentWorkload > 0 && this.random() < 0.5) {
      node.currentWorkload--;
      return 'settle';
    }
    const roll = this.random();
    if (roll < 0.12 && this.boot(node)) {
      node.currentWorkload++;
      return 'boot';
    }
    if (roll >= 0.12 && roll < 0.22 && node.instances.length > 0) {
      node.instances.splice(Math.floor(this.random() * node.instances.length), 1);
      return 'terminate';
    }
    if (roll >= 0.22 && roll < 0.7) {
      // Hypervisor overhead drifts: memory_mb_used and free_ram_mb only.
      const delta = this.int(1, 64) * (this.random() < 0.5 ? -1 : 1);
      if (this.opts.overheadDrift === false) return 'noop';
      node.overheadMb = node.overheadMb + delta < 128 ? node.overheadMb + 64 : node.overheadMb + delta;
      return 'report';
    }
    return 'noop';
  }

  private write(node: SimNode, kind: WriteKind): { uuid: string; send: () => Promise<void> } {
    // The item is built now, so later decisions cannot leak into this write.
    const changes = kind !== 'noop' && kind !== 'hard_delete';
    if (changes) node.updatedAt = new Date(this.now).toISOString();
    const item = toItem(node, kind === 'invalid');
    const { client, tableName } = this.opts;
    const send = async () => {
      const at = this.now;
      if (kind === 'hard_delete') {
        await client.send(new DeleteItemCommand({ TableName: tableName, Key: { uuid: { S: node.uuid } } }));
      } else if (kind === 'soft_delete' || kind === 'undelete') {
        await client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: { uuid: { S: node.uuid } },
            UpdateExpression: 'SET deleted = :d, updated_at = :u',
            ExpressionAttributeValues: { ':d': { N: kind === 'soft_delete' ? String(node.id) : '0' }, ':u': { S: node.updatedAt } },
          }),
        );
      } else {
        await client.send(new PutItemCommand({ TableName: tableName, Item: item }));
      }
      this.stats.writes++;
      this.stats.byKind[kind]++;
      this.opts.onWrite?.({ kind, uuid: node.uuid, host: node.host, at });
    };
    return { uuid: node.uuid, send };
  }
}

function usage(node: SimNode): { vcpusUsed: number; memoryMbUsed: number; localGbUsed: number } {
  let vcpusUsed = 0;
  let memoryMbUsed = RESERVED_HOST_MEMORY_MB + node.overheadMb;
  let localGbUsed = 0;
  for (const i of node.instances) {
    vcpusUsed += i.vcpus;
    memoryMbUsed += i.ramMb;
    localGbUsed += i.diskGb;
  }
  return { vcpusUsed, memoryMbUsed, localGbUsed };
}

const N = (n: number): AttributeValue => ({ N: String(n) });
const S = (s: string): AttributeValue => ({ S: s });

/** The node's row, every ComputeNode field set as Nova's resource tracker sets it. */
function toItem(node: SimNode, invalid: boolean): Record<string, AttributeValue> {
  const u = usage(node);
  const freeDisk = node.localGb - u.localGbUsed;
  return {
    id: N(node.id),
    uuid: S(node.uuid),
    host: S(node.host),
    // An invalid write: a fraction where Nova has an integer.
    vcpus: invalid ? { N: `${node.vcpus}.5` } : N(node.vcpus),
    memory_mb: N(node.memoryMb),
    local_gb: N(node.localGb),
    vcpus_used: N(u.vcpusUsed),
    memory_mb_used: N(u.memoryMbUsed),
    local_gb_used: N(u.localGbUsed),
    hypervisor_type: S('QEMU'),
    hypervisor_version: N(node.hypervisorVersion),
    hypervisor_hostname: S(`${node.host}.example.org`),
    free_ram_mb: N(node.memoryMb - u.memoryMbUsed),
    free_disk_gb: N(freeDisk),
    current_workload: N(node.currentWorkload),
    running_vms: N(node.instances.length),
    // Qcow2 images grow: the least available is below what is free.
    disk_available_least: N(Math.max(0, freeDisk - Math.floor(u.localGbUsed / 10))),
    host_ip: S(node.hostIp),
    cpu_info: S(JSON.stringify({ arch: 'x86_64', model: 'Icelake-Server', vendor: 'Intel', topology: { sockets: 2, cores: node.vcpus / 4, threads: 2 } })),
    deleted: N(node.deleted ? node.id : 0),
    created_at: S(node.createdAt),
    updated_at: S(node.updatedAt),
  };
}
