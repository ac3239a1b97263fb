import { ChronoscopeError, isChronoscopeError } from '../../../shared/errors';
import type { ImportFormat, JsonRecord } from './formats';
import { LineReader, type LineReaderOptions } from './lineReader';

/** Lines parsed to guess a file's format: enough to outvote a few odd lines, cheap on any file. */
export const DEFAULT_SAMPLE_RECORDS = 50;

/** What detection chose and why, so the UI and CLI can show it and the user can override it. */
export interface Detection {
  format: ImportFormat;
  /** Share of sampled records that have every required key of the chosen format (0–1). */
  confidence: number;
  reason: string;
}

interface Signature {
  format: Exclude<ImportFormat, 'mapping'>;
  required: readonly string[];
  typical: readonly string[];
}
/** Detection rules, in tie-break order: a record matches a format when it has all its required keys. */
export const FORMAT_SIGNATURES: readonly Signature[] = [
  {
    format: 'cloudevents',
    required: ['specversion', 'id', 'source', 'type'],
    typical: ['time', 'subject', 'data', 'datacontenttype'],
  },
  {
    format: 'native',
    required: ['stream', 'type'],
    typical: ['id', 'time', 'data', 'meta', 'tenant', 'seq', 'version', 'recordedAt'],
  },
  {
    format: 'snake',
    required: ['event_type', 'aggregate_id'],
    typical: ['event_id', 'aggregate_version', 'event_data', 'metadata', 'created_at'],
  },
  {
    format: 'camel',
    required: ['eventType'],
    typical: ['eventId', 'timestamp', 'actorId', 'correlationId', 'payload', 'metadata'],
  },
];

/**
 * Picks the format most sampled records match (ties: more typical keys, then table order). Throws
 * INVALID_ARGUMENT listing the keys it saw when no format matches any record.
 */
export function detectFormat(records: readonly JsonRecord[]): Detection {
  if (records.length === 0) {
    throw new ChronoscopeError(
      'INVALID_ARGUMENT',
      'cannot detect the format: no JSON object lines to sample',
    );
  }
  const scored = FORMAT_SIGNATURES.map((sig, order) => {
    let matches = 0;
    let typical = 0;
    for (const r of records) {
      if (!sig.required.every((k) => r[k] !== undefined)) continue;
      matches++;
      typical += sig.typical.filter((k) => r[k] !== undefined).length / sig.typical.length;
    }
    return { sig, order, matches, typical: matches ? typical / matches : 0 };
  }).sort((a, b) => b.matches - a.matches || b.typical - a.typical || a.order - b.order);
  const best = scored[0]!;
  if (best.matches === 0) {
    const seen = new Map<string, number>();
    for (const r of records) for (const k of Object.keys(r)) seen.set(k, (seen.get(k) ?? 0) + 1);
    const keys = [...seen.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 12)
      .map(([k]) => k);
    throw new ChronoscopeError(
      'INVALID_ARGUMENT',
      `cannot detect the format: no sampled record has the keys of any known format (keys seen: ${keys.join(', ')}); ` +
        'choose a format or give a field mapping',
      { keysSeen: keys },
    );
  }
  const runnerUp = scored[1]!;
  const also = runnerUp.matches > 0 ? `; ${runnerUp.matches} also match ${runnerUp.sig.format}` : '';
  return {
    format: best.sig.format,
    confidence: best.matches / records.length,
    reason:
      `${best.sig.format}: ${best.matches} of ${records.length} sampled records have ${best.sig.required.join(', ')}` +
      ` (${Math.round(best.typical * 100)}% of its typical keys)${also}`,
  };
}

/**
 * Detects a file's format from its first `sample` JSON-object lines (blank, malformed and non-object
 * lines are skipped). Returns undefined when the file holds no JSON object at all (empty or garbage).
 */
export async function detectFileFormat(
  path: string,
  options: LineReaderOptions & { sample?: number } = {},
): Promise<Detection | undefined> {
  const want = options.sample ?? DEFAULT_SAMPLE_RECORDS;
  const records: JsonRecord[] = [];
  const reader = new LineReader(path, options);
  try {
    outer: for await (const items of reader.batches()) {
      for (const it of items) {
        if (it.kind !== 'line') continue;
        try {
          const v: unknown = JSON.parse(it.line);
          if (v !== null && typeof v === 'object' && !Array.isArray(v)) records.push(v as JsonRecord);
        } catch {
          continue;
        }
        if (records.length >= want) break outer;
      }
    }
  } catch (err) {
    // A damaged gzip tail is the import's to report; the head may still tell the format.
    if (!isChronoscopeError(err, 'CORRUPT') || records.length === 0) throw err;
  }
  return records.length === 0 ? undefined : detectFormat(records);
}

/** The format an import uses for a file: an explicit choice (confidence 1) or detection. */
export async function resolveFormat(
  path: string,
  format: ImportFormat | 'auto',
  options: LineReaderOptions & { sample?: number } = {},
): Promise<Detection | undefined> {
  if (format !== 'auto') return { format, confidence: 1, reason: `${format}: chosen by the caller` };
  return detectFileFormat(path, options);
}
