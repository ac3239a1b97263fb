import { closeSync, openSync, readFileSync, unlinkSync, writeSync, fsyncSync } from 'node:fs';
import { ChronoscopeError } from '../../../shared/errors';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The single-writer lock: a LOCK file created exclusively, holding the writer's pid. A lock
 * left by a dead process is taken over; a live holder gets a LOCKED error naming its pid.
 */
export class StoreLock {
  private constructor(private readonly path: string) {}

  static acquire(path: string): StoreLock {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = openSync(path, 'wx', 0o600);
        writeSync(fd, `${process.pid}\n`);
        fsyncSync(fd);
        closeSync(fd);
        return new StoreLock(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const holder = readHolder(path);
        if (holder !== undefined && alive(holder)) {
          throw new ChronoscopeError(
            'LOCKED',
            `store is locked by pid ${holder} (${path}); open it read-only or stop that process`,
            {
              pid: holder,
              path,
            },
          );
        }
        // Stale: its writer died. Remove and retry; a racing opener may win, which the retry sees.
        try {
          unlinkSync(path);
        } catch {
          /* someone else removed it first */
        }
      }
    }
    throw new ChronoscopeError('LOCKED', `could not take the store lock ${path}`, { path });
  }

  release(): void {
    try {
      if (readHolder(this.path) === process.pid) unlinkSync(this.path);
    } catch {
      /* already gone */
    }
  }
}

function readHolder(path: string): number | undefined {
  try {
    const pid = parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
