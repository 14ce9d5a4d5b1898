/**
 * Notices when whatever launched us is gone. `npm start` runs `sh -c "tsx local/start.ts"`;
 * a SIGTERM sent to npm alone is forwarded to that shell, which dies of it without passing
 * it on, leaving tsx and this process running with nobody to stop them. When our parent or
 * grandparent is re-parented (Linux `/proc`), the launcher has gone and we stop as if we had
 * received SIGTERM. Elsewhere this does nothing.
 */
import { existsSync, readFileSync } from 'node:fs';

function parentOf(pid: number): number | undefined {
  try {
    // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may contain spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(ppid) ? ppid : undefined;
  } catch {
    return undefined;
  }
}

/** Calls `onGone` once when the launcher chain breaks; returns a function that stops watching. */
export function watchLauncher(onGone: () => void, intervalMs = 1_000): () => void {
  if (!existsSync('/proc/self/stat')) return () => {};
  const parent = process.ppid;
  const grandparent = parentOf(parent);
  const timer = setInterval(() => {
    if (process.ppid !== parent || (grandparent !== undefined && parentOf(parent) !== grandparent)) {
      clearInterval(timer);
      onGone();
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
