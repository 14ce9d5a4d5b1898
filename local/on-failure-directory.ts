/**
 * The on-failure bucket's local stand-in: a directory, one file per object under `objects/`
 * (the key is the relative path, as Lambda lays keys out), and the redrive's marks as small
 * files under `marks/` (the S3 store uses an object tag instead). No maintained npm S3
 * emulator fits (the known one, s3rver, had its last release in 2021); the redrive only needs
 * list, read and mark, which this does behind the same `OnFailureStore` interface. As on AWS,
 * the quarantine keeps its oversized messages in the same bucket, under `quarantine/`
 * (`claimCheck`).
 */
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { ClaimCheckStore } from '../functions/notifier/claim-check.js';
import type { OnFailureStore, RedriveMark, StoredObject } from '../functions/redrive/on-failure-store.js';

export class DirectoryOnFailureStore implements OnFailureStore {
  readonly location: string;
  private readonly objects: string;
  private readonly marks: string;

  constructor(directory: string) {
    this.location = resolve(directory);
    this.objects = join(this.location, 'objects');
    this.marks = join(this.location, 'marks');
    mkdirSync(this.objects, { recursive: true });
    mkdirSync(this.marks, { recursive: true });
  }

  private pathOf(root: string, key: string): string {
    const path = resolve(root, key);
    if (!path.startsWith(root + sep)) throw new Error(`object key ${key} leaves the store`);
    return path;
  }

  /** This bucket as the quarantine's claim-check store, named `bucket` in the pointers. */
  claimCheck(bucket: string): ClaimCheckStore {
    return { bucket, put: (key, body) => this.put(key, body), get: (key) => this.read(key) };
  }

  /** Writes an object (what Lambda's PutObject does). */
  async put(key: string, body: string): Promise<void> {
    const path = this.pathOf(this.objects, key);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, body, 'utf8');
  }

  async *list(opts: { prefix?: string; startAfter?: string } = {}): AsyncIterable<StoredObject> {
    const keys: { key: string; lastModified: Date }[] = [];
    const walk = (dir: string) => {
      if (!existsSync(dir)) return;
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else keys.push({ key: relative(this.objects, path).split(sep).join('/'), lastModified: statSync(path).mtime });
      }
    };
    walk(this.objects);
    keys.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    for (const k of keys) {
      if (opts.prefix !== undefined && !k.key.startsWith(opts.prefix)) continue;
      if (opts.startAfter !== undefined && k.key <= opts.startAfter) continue;
      yield k;
    }
  }

  read(key: string): Promise<string | undefined> {
    return readIfPresent(this.pathOf(this.objects, key));
  }

  async mark(key: string): Promise<string | undefined> {
    // The first line; a reason may follow (kept for whoever reads the file).
    return (await readIfPresent(this.pathOf(this.marks, key)))?.split('\n')[0]!.trim();
  }

  async setMark(key: string, mark: RedriveMark, reason?: string): Promise<void> {
    const path = this.pathOf(this.marks, key);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, mark + '\n' + (reason === undefined ? '' : reason.replace(/\n/g, ' ') + '\n'), 'utf8');
  }
}

/** The file's text, or undefined when there is no such file. */
async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
