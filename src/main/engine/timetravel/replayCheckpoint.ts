import { existsSync, openSync, closeSync, fsyncSync } from 'node:fs';
import { open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { ChronoscopeError, fromIoError } from '../../../shared/errors';
import type { JsonValue } from '../../../shared/event';
import { eventFilterSchema, type EventFilter } from '../../../shared/query';

/** Where a replay stopped: enough to continue exactly there (`--resume`). */
export interface ReplayCheckpoint {
  format: 1;
  /** Absolute path of the module, and the hash of the code that produced `state`. */
  module: string;
  codeHash: string;
  filter: EventFilter;
  from: number;
  to: number;
  /** Seq of the last event handled (or skipped); the replay continues after it. */
  position: number;
  processed: number;
  /** Seqs skipped after an error: a resumed replay skips them again. */
  skipped: number[];
  /** The projection's state after `position` (null for handler modules). */
  state: JsonValue;
  savedAt: string;
}

const schema = z
  .object({
    format: z.literal(1),
    module: z.string().min(1),
    codeHash: z.string(),
    filter: eventFilterSchema,
    from: z.number().int().min(1),
    to: z.number().int().min(0),
    position: z.number().int().min(0),
    processed: z.number().int().min(0),
    skipped: z.array(z.number().int().min(1)),
    state: z.unknown(),
    savedAt: z.string(),
  })
  .strict();

/** Reads and validates a checkpoint; undefined when the file does not exist. */
export async function readCheckpoint(file: string): Promise<ReplayCheckpoint | undefined> {
  if (!existsSync(file)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new ChronoscopeError(
      'INVALID_ARGUMENT',
      `checkpoint ${file}: not JSON (${(err as Error).message})`,
      {
        file,
      },
    );
  }
  const r = schema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new ChronoscopeError(
      'INVALID_ARGUMENT',
      `checkpoint ${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`,
      { file, field: issue.path.join('.') },
    );
  }
  return r.data as ReplayCheckpoint;
}

/** Writes a checkpoint so a crash leaves the old one or the new one, never half of either. */
export async function writeCheckpoint(file: string, cp: ReplayCheckpoint): Promise<void> {
  const tmp = `${file}.tmp`;
  try {
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(`${JSON.stringify(cp, null, 2)}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
    // The rename itself is durable only once the folder is synced.
    const dir = openSync(dirname(file), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  } catch (err) {
    throw fromIoError(err, `writing checkpoint ${file}`);
  }
}
