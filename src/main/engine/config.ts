import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { ChronoscopeError } from '../../shared/errors';
import { DEFAULT_FILE_OPTIONS } from './file/FileStore';

const MiB = 1 << 20;

/** A snapshot strategy (engine/timetravel/snapshots.ts): every N events, per event-time interval, or adaptive. */
const snapshotStrategySchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('count'), every: z.number().int().min(1) }).strict(),
  z.object({ kind: z.literal('time'), intervalMs: z.number().int().min(1) }).strict(),
  z
    .object({
      kind: z.literal('adaptive'),
      every: z.number().int().min(1).optional(),
      minFold: z.number().int().min(1).optional(),
    })
    .strict(),
]);

/** `chronoscope.config.json`: every key optional; unknown keys are errors so typos surface. */
export const configSchema = z
  .object({
    $schema: z.string().optional(),
    backend: z
      .enum(['file', 'memory'])
      .default('file')
      .describe('Storage backend: file (default, durable) or memory (ephemeral).'),
    store: z
      .string()
      .min(1)
      // Node refuses such paths with an untyped TypeError when the store is opened; name the key instead.
      .refine((s) => !s.includes('\0'), { message: 'must not contain NUL bytes' })
      .optional()
      .describe('Path of the store folder (file backend). Relative to the config file.'),
    file: z
      .object({
        segmentMaxBytes: z
          .number()
          .int()
          .min(1024)
          .max(4096 * MiB)
          .default(DEFAULT_FILE_OPTIONS.segmentMaxBytes)
          .describe('Seal the active segment at this size.'),
        segmentMaxAgeMs: z
          .number()
          .int()
          .min(0)
          .default(DEFAULT_FILE_OPTIONS.segmentMaxAgeMs)
          .describe('Seal the active segment once this old (0 = never by age).'),
        hotTierMaxBytes: z
          .number()
          .int()
          .min(MiB)
          .default(DEFAULT_FILE_OPTIONS.hotTierMaxBytes)
          .describe('Memory budget of the in-memory hot tier.'),
        compressionLevel: z
          .number()
          .int()
          .min(0)
          .max(9)
          .default(DEFAULT_FILE_OPTIONS.compressionLevel)
          .describe('gzip level of sealed segments.'),
        blockCacheBytes: z
          .number()
          .int()
          .min(0)
          .default(DEFAULT_FILE_OPTIONS.blockCacheBytes)
          .describe('Memory for inflated blocks of sealed segments.'),
        indexCacheBytes: z
          .number()
          .int()
          .min(0)
          .default(DEFAULT_FILE_OPTIONS.indexCacheBytes)
          .describe(
            'Memory for the sealed id table and the segment indexes cached beside it; the others are read from the index on demand.',
          ),
      })
      .strict()
      .default({
        segmentMaxBytes: DEFAULT_FILE_OPTIONS.segmentMaxBytes,
        segmentMaxAgeMs: DEFAULT_FILE_OPTIONS.segmentMaxAgeMs,
        hotTierMaxBytes: DEFAULT_FILE_OPTIONS.hotTierMaxBytes,
        compressionLevel: DEFAULT_FILE_OPTIONS.compressionLevel,
        blockCacheBytes: DEFAULT_FILE_OPTIONS.blockCacheBytes,
        indexCacheBytes: DEFAULT_FILE_OPTIONS.indexCacheBytes,
      }),
    snapshots: z
      .object({
        strategy: snapshotStrategySchema
          .optional()
          .describe('When stream folds take snapshots (default: adaptive, every 100, minFold 16).'),
        globalStrategy: snapshotStrategySchema
          .optional()
          .describe('When global folds take snapshots (default: adaptive, every 10,000, minFold 1,000).'),
        maxBytes: z
          .number()
          .int()
          .min(MiB)
          .optional()
          .describe('Bytes of snapshots kept; least recently used go first (default 64 MiB).'),
      })
      .strict()
      .default({})
      .describe('Snapshots of projection states (time travel): a cache that never changes an answer.'),
    query: z
      .object({
        defaultLimit: z
          .number()
          .int()
          .min(1)
          .max(10_000)
          .default(100)
          .describe('Page size when none is given.'),
      })
      .strict()
      .default({ defaultLimit: 100 }),
  })
  .strict();

export type ChronoscopeConfig = z.output<typeof configSchema>;
export const CONFIG_FILE = 'chronoscope.config.json';

/** Validates a config object; a bad key is named with its path and the reason. */
export function parseConfig(raw: unknown, source = CONFIG_FILE): ChronoscopeConfig {
  const r = configSchema.safeParse(raw ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const keys = issue.code === 'unrecognized_keys' ? (issue as { keys: string[] }).keys : [];
  const path = [...issue.path, ...(keys.length === 1 ? keys : [])].join('.') || '(root)';
  const why =
    issue.code === 'unrecognized_keys'
      ? `unknown key${keys.length > 1 ? `s ${keys.join(', ')}` : ''}`
      : issue.message;
  throw new ChronoscopeError('INVALID_CONFIG', `${source}: key ${path}: ${why}`, { key: path, source });
}

/** Loads the config: an explicit path must exist; otherwise `chronoscope.config.json` in `dir` if present, else defaults. */
export function loadConfig(
  explicitPath?: string,
  dir = process.cwd(),
): { config: ChronoscopeConfig; path?: string } {
  const path = explicitPath ? resolve(explicitPath) : resolve(dir, CONFIG_FILE);
  if (!existsSync(path)) {
    if (explicitPath)
      throw new ChronoscopeError('INVALID_CONFIG', `config file ${path} does not exist`, { source: path });
    return { config: parseConfig({}) };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ChronoscopeError('INVALID_CONFIG', `${path}: not valid JSON (${(err as Error).message})`, {
      source: path,
    });
  }
  const config = parseConfig(raw, path);
  if (config.store) config.store = resolve(path, '..', config.store);
  return { config, path };
}

/** The JSON Schema editors use to complete and check the config file. */
export function configJsonSchema(): unknown {
  return { ...(z.toJSONSchema(configSchema, { io: 'input' }) as object), title: 'Chronoscope configuration' };
}
