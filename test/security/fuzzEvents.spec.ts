/**
 * Hostile events straight into normaliseEvent and append, on a real memory store and a real file
 * store (issue #9): wrong types in every envelope field, unknown and prototype keys, non-JSON values,
 * 10,000-level nesting, huge numbers, duplicate ids, half-bad batches. Every refusal must be a typed
 * INVALID_EVENT / DUPLICATE_ID naming the field; every acceptance must store the payload unchanged.
 * After each batch: no prototype pollution, everything acknowledged still there, verify clean.
 * Replay with CHRONOSCOPE_FUZZ_SEED (printed below).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileStore } from '../../src/main/engine/file/FileStore';
import { MemoryStore } from '../../src/main/engine/memory/MemoryStore';
import type { EventStore } from '../../src/main/engine/types';
import { ChronoscopeError } from '../../src/shared/errors';
import { normaliseEvent, type EventInput, type StoredEvent } from '../../src/shared/event';
import {
  ENVELOPE_FIELDS,
  FUZZ_SEED,
  PROTO_KEYS,
  Rng,
  WRONG_JSON_VALUES,
  WRONG_JS_VALUES,
  acceptable,
  casesFor,
  hostileJson,
  nested,
  pollutionWatch,
  put,
} from './support/hostile';
import { readEverything as readAllEvents } from '../support/readEverything';

const CASES_PER_BACKEND = casesFor(0.2); // two backends: 40 % of the run
const CHECK_EVERY = 400;
const figures = { cases: 0, accepted: 0, refused: 0, duplicates: 0, eventsChecked: 0 };
const tmp = mkdtempSync(join(tmpdir(), 'chronoscope-fuzz-events-'));
console.info(
  `fuzz events: seed ${FUZZ_SEED} (CHRONOSCOPE_FUZZ_SEED=${FUZZ_SEED} replays), ${CASES_PER_BACKEND} cases per backend`,
);

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
  console.info(`fuzz events figures: ${JSON.stringify(figures)}`);
});

const stableJson = (v: unknown) => JSON.stringify(v);
/** Envelope fields in a fixed order (the acknowledged object and the stored line order them differently). */
const eventJson = (e: StoredEvent) =>
  JSON.stringify(Object.fromEntries(Object.entries(e).sort(([a], [b]) => (a < b ? -1 : 1))));

/** What the store acknowledged: the oracle for "nothing previously acknowledged is lost". */
class Ledger {
  readonly bySeq = new Map<number, { id: string; json: string }>();
  record(events: StoredEvent[]): void {
    for (const e of events) this.bySeq.set(e.seq, { id: e.id, json: eventJson(e) });
  }
}

async function checkInvariants(s: EventStore, ledger: Ledger, watch: { polluted(): string[] }, at: string) {
  expect(watch.polluted(), `prototype pollution after ${at}`).toEqual([]);
  const all = await readAllEvents(s);
  const problems: string[] = [];
  if (all.length !== ledger.bySeq.size)
    problems.push(`${all.length} events stored, ${ledger.bySeq.size} acknowledged`);
  for (const e of all) {
    const want = ledger.bySeq.get(e.seq);
    if (!want) problems.push(`seq ${e.seq} was never acknowledged`);
    else if (want.json !== eventJson(e))
      problems.push(
        `seq ${e.seq} changed: acknowledged ${want.json.slice(0, 400)}, now ${eventJson(e).slice(0, 400)}`,
      );
  }
  figures.eventsChecked += all.length;
  expect(problems.slice(0, 10), `${problems.length} problems after ${at}`).toEqual([]);
  const v = await s.verify();
  expect(v.issues, `verify after ${at}`).toEqual([]);
}

let streamNo = 0;
const base = (r: Rng): Record<string, unknown> => ({
  stream: `Fuzz-${streamNo++ % 37}`,
  type: r.pick(['Created', 'Updated', 'Deleted']),
  data: { n: r.int(100) },
});

/** A value JSON cannot hold, buried somewhere inside an otherwise fine payload. */
function nonJsonPayload(r: Rng): { data: unknown } {
  const kind = r.int(4);
  if (kind === 0) return { data: nested(10_000, r.chance(0.5) ? 'array' : 'object') };
  if (kind === 1) {
    const cyc: Record<string, unknown> = { a: 1 };
    cyc.self = { back: cyc };
    return { data: cyc };
  }
  const bad = kind === 2 ? r.pick(WRONG_JS_VALUES) : undefined;
  const holder = hostileJson(r, 2);
  const wrap = { ok: holder, list: [1, { deep: [bad] }] };
  return { data: wrap };
}

interface Outcome {
  accepted?: EventInput;
  problem?: string;
}

/** One generated case against normaliseEvent; returns the input when it must be (and was) accepted. */
function runCase(r: Rng): Outcome {
  const ev = base(r);
  const kind = r.int(6);
  let mustRefuseField: string | undefined; // the field the error has to name
  let mustAccept = false;
  if (kind === 0 || kind === 1) {
    const field = r.pick(ENVELOPE_FIELDS);
    const v = kind === 0 ? r.pick(WRONG_JSON_VALUES) : r.pick(WRONG_JS_VALUES);
    ev[field] = v;
    if (acceptable(field, v)) mustAccept = true;
    // An odd but valid id (' ') must stay unique, or the next one is a legitimate DUPLICATE_ID.
    if (mustAccept && field === 'id') ev.id = `${String(v).slice(0, 100)}#${streamNo}`;
    else mustRefuseField = field;
  } else if (kind === 2) {
    const key = r.chance(0.7) ? r.pick([...PROTO_KEYS, 'seq', 'version', 'recordedAt']) : `x${r.text(6)}`;
    put(ev, key, hostileJson(r, 2));
    mustRefuseField = key;
  } else if (kind === 3) {
    ev.data = hostileJson(r, 5);
    const meta: Record<string, unknown> = {};
    for (const k of PROTO_KEYS) if (r.chance(0.4)) put(meta, k, hostileJson(r, 2));
    ev.meta = meta;
    mustAccept = true;
  } else if (kind === 4) {
    ev.data = nonJsonPayload(r).data;
    mustRefuseField = 'data';
  } else {
    const notAnObject = r.pick([null, undefined, 0, 'event', [ev], true]);
    return check(() => normaliseEvent(notAnObject), '(event)', false);
  }
  const out = check(() => normaliseEvent(ev), mustRefuseField, mustAccept);
  if (out.problem || !mustAccept) return out;
  return { accepted: ev as EventInput };
}

function check(run: () => unknown, refuseField: string | undefined, mustAccept: boolean): Outcome {
  try {
    const n = run() as { data: unknown };
    figures.accepted++;
    if (!mustAccept) return { problem: `accepted although field ${refuseField} is invalid` };
    return n ? {} : { problem: 'normaliseEvent returned nothing' };
  } catch (err) {
    figures.refused++;
    if (!(err instanceof ChronoscopeError)) return { problem: `untyped error: ${String(err)}` };
    if (mustAccept) return { problem: `refused a valid event: ${err.message}` };
    const field = String(err.details?.field ?? '');
    if (err.code !== 'INVALID_EVENT') return { problem: `code ${err.code}: ${err.message}` };
    if (!err.message.includes(`field ${field}`))
      return { problem: `message does not name ${field}: ${err.message}` };
    if (refuseField !== undefined && field !== refuseField && !field.startsWith(`${refuseField}.`))
      return { problem: `error names ${field}, expected ${refuseField}: ${err.message.slice(0, 200)}` };
    return {};
  }
}

async function fuzzStore(name: string, s: EventStore, r: Rng, ledger: Ledger): Promise<void> {
  const watch = pollutionWatch();
  const problems: string[] = [];
  let pending: EventInput[] = [];
  const flush = async () => {
    if (pending.length === 0) return;
    const res = await s.append(pending);
    ledger.record(res.events);
    // The stored payload is the input's, byte for byte in JSON: prototype keys kept as plain keys.
    res.events.forEach((e, i) => {
      const want = pending[i]!;
      if (
        stableJson(e.data) !== stableJson(want.data === undefined ? {} : want.data) ||
        stableJson(e.meta) !== stableJson(want.meta)
      )
        problems.push(
          `${e.id}: stored ${stableJson({ data: e.data, meta: e.meta }).slice(0, 300)} ≠ input ${stableJson({ data: want.data === undefined ? {} : want.data, meta: want.meta }).slice(0, 300)}`,
        );
    });
    pending = [];
  };
  for (let i = 1; i <= CASES_PER_BACKEND; i++) {
    figures.cases++;
    const out = runCase(r);
    if (out.problem) problems.push(out.problem);
    if (out.accepted) pending.push(out.accepted);
    if (pending.length >= 40) await flush();
    if (i % 50 === 0) {
      await flush();
      await duplicateCase(s, r, ledger, problems);
      await halfBadBatch(s, r, problems);
    }
    if (i % CHECK_EVERY === 0 || i === CASES_PER_BACKEND) {
      await flush();
      expect(problems.slice(0, 10), `${problems.length} problems (${name}, case ${i})`).toEqual([]);
      await checkInvariants(s, ledger, watch, `${name} case ${i}`);
    }
  }
}

/** Same id again: same stream and type is an idempotent duplicate; anything else DUPLICATE_ID, atomically. */
async function duplicateCase(s: EventStore, r: Rng, ledger: Ledger, problems: string[]): Promise<void> {
  const id = `dup-${r.int(1e9)}-${streamNo}`;
  const first = await s.append([{ id, stream: 'Dup-1', type: 'Made', data: { v: 1 } }]);
  ledger.record(first.events);
  const again = await s.append([{ id, stream: 'Dup-1', type: 'Made', data: { v: 2 } }]);
  if (again.duplicates !== 1 || again.events[0]!.seq !== first.events[0]!.seq)
    problems.push(`re-appending ${id} was not an idempotent duplicate`);
  figures.duplicates++;
  const before = s.lastSeq();
  const fresh = `fresh-${id}`;
  try {
    await s.append([
      { id: fresh, stream: 'Dup-2', type: 'Made' },
      { id, stream: 'Dup-other', type: 'Made' },
    ]);
    problems.push(`${id} reused in another stream was accepted`);
  } catch (err) {
    if (!(err instanceof ChronoscopeError) || err.code !== 'DUPLICATE_ID')
      problems.push(`reused id gave ${String(err)}`);
  }
  if (s.lastSeq() !== before || (await s.getEvent(fresh)))
    problems.push('a batch refused for a duplicate id was partly stored');
}

/** One bad event poisons its whole batch: the error names its index and nothing of the batch is stored. */
async function halfBadBatch(s: EventStore, r: Rng, problems: string[]): Promise<void> {
  const before = s.lastSeq();
  const batch: unknown[] = [base(r), base(r), base(r)];
  const bad = r.int(3);
  (batch[bad] as Record<string, unknown>).stream = r.pick([42, '', null, ['x']]);
  try {
    await s.append(batch as EventInput[]);
    problems.push('a batch with an invalid event was accepted');
  } catch (err) {
    if (!(err instanceof ChronoscopeError) || err.code !== 'INVALID_EVENT' || err.details?.index !== bad)
      problems.push(`half-bad batch gave ${String(err)}`);
  }
  if (s.lastSeq() !== before) problems.push('a refused batch moved lastSeq');
}

describe(`hostile events (seed ${FUZZ_SEED})`, () => {
  it('the memory store refuses every invalid envelope with a typed error naming the field, stores the rest unchanged', async () => {
    const s = new MemoryStore();
    try {
      await fuzzStore('memory', s, new Rng(FUZZ_SEED, 'events-memory'), new Ledger());
    } finally {
      await s.close();
    }
  }, 120_000);

  it('the file store does the same, and after a reopen every acknowledged event is still there, verify clean', async () => {
    const dir = join(tmp, 'file-store');
    const ledger = new Ledger();
    const s = await FileStore.open(dir, { segmentMaxBytes: 64 * 1024, sealInWorker: false });
    try {
      await fuzzStore('file', s, new Rng(FUZZ_SEED, 'events-file'), ledger);
      await s.flushSeals();
    } finally {
      await s.close();
    }
    const again = await FileStore.open(dir, { sealInWorker: false });
    try {
      expect(again.report.problems).toEqual([]);
      await checkInvariants(again, ledger, pollutionWatch(), 'reopen');
    } finally {
      await again.close();
    }
  }, 120_000);
});
