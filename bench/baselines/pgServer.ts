import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Where the machine's own PostgreSQL server binaries live (DESIGN §7); PG_BIN overrides. */
export const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** Why PostgreSQL cannot be started here, or undefined when it can. */
export function pgMissing(): string | undefined {
  for (const b of ['initdb', 'pg_ctl', 'postgres'])
    if (!existsSync(join(PG_BIN, b))) return `PostgreSQL binaries not found (${join(PG_BIN, b)} missing)`;
  return undefined;
}

/** A free TCP port on 127.0.0.1, as the OS hands one out. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

const asRoot = process.getuid?.() === 0;
/** PostgreSQL refuses to run as root: as root, every server binary runs through `runuser -u postgres`. */
function argv(bin: string, args: string[]): [string, string[]] {
  const path = join(PG_BIN, bin);
  return asRoot ? ['runuser', ['-u', 'postgres', '--', path, ...args]] : [path, args];
}

const running = new Set<PgServer>();

/** A throwaway PostgreSQL cluster on a temp dir and a free port, started and stopped by the harness. */
export class PgServer {
  #stopped = false;
  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  get dataDir(): string {
    return join(this.dir, 'data');
  }

  /** initdb (trust auth, user `bench`) and pg_ctl start with fsync on; throws with the server log on failure. */
  static async start(): Promise<PgServer> {
    const missing = pgMissing();
    if (missing) throw new Error(missing);
    const dir = mkdtempSync(join(tmpdir(), 'chronoscope-bench-pg-'));
    if (asRoot) {
      const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
      chownSync(dir, uid, gid);
    }
    const port = await freePort();
    const server = new PgServer(dir, port);
    try {
      const data = server.dataDir;
      await run(
        ...argv('initdb', ['-D', data, '-A', 'trust', '-U', 'bench', '-E', 'UTF8', '--locale=C', '-N']),
      );
      const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=on`;
      running.add(server);
      await run(
        ...argv('pg_ctl', ['start', '-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '60', '-o', opts]),
      );
      return server;
    } catch (err) {
      const log = existsSync(join(dir, 'server.log')) ? readFileSync(join(dir, 'server.log'), 'utf8') : '';
      server.stopSync();
      throw new Error(`${(err as Error).message.split('\n')[0]} ${log.slice(-500)}`.trim());
    }
  }

  /** Version string reported by the server binary. */
  async version(): Promise<string> {
    return (await run(join(PG_BIN, 'postgres'), ['--version'])).stdout.trim();
  }

  /** Stops the server (fast shutdown) and removes its temp dir; safe to call twice. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    running.delete(this);
    try {
      if (existsSync(join(this.dataDir, 'postmaster.pid')))
        await run(...argv('pg_ctl', ['stop', '-D', this.dataDir, '-m', 'fast', '-w', '-t', '60']));
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }

  /** Synchronous stop for signal handlers and failure paths. */
  stopSync(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    running.delete(this);
    try {
      if (existsSync(join(this.dataDir, 'postmaster.pid')))
        execFileSync(...argv('pg_ctl', ['stop', '-D', this.dataDir, '-m', 'immediate', '-w', '-t', '30']), {
          stdio: 'ignore',
        });
    } catch {
      // best effort: the temp dir goes regardless
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }

  get stopped(): boolean {
    return this.#stopped;
  }
}

/** Stops every server still running (SIGINT, uncaught failure) so none outlives the harness. */
export function stopAllPgServersSync(): void {
  for (const s of [...running]) s.stopSync();
}
