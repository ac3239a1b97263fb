/**
 * Hostile calls through the real handler table (createApi(...).dispatch, what both hosts and the IPC
 * binding call), hostile configs (every key of the config schema with wrong values), and odd store
 * paths (issue #9). Every outcome must be an envelope with a typed error code — never a throw, never
 * INTERNAL, never a hang — and the store must keep everything it acknowledged.
 * Replay with CHRONOSCOPE_FUZZ_SEED (printed below).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { afterAll, describe, expect, it } from 'vitest';
import { bindIpc, type IpcMainLike } from '../../src/main/api/bindIpc';
import { createApi } from '../../src/main/api/handlers';
import { configSchema, loadConfig, parseConfig } from '../../src/main/engine/config';
import { FileStore } from '../../src/main/engine/file/FileStore';
import { MemoryStore } from '../../src/main/engine/memory/MemoryStore';
import { openStore } from '../../src/main/engine/store';
import type { EventStore } from '../../src/main/engine/types';
import { apiParamSchemas } from '../../src/shared/api';
import { ChronoscopeError, ERROR_CODES } from '../../src/shared/errors';
import type { StoredEvent } from '../../src/shared/event';
import {
  FUZZ_SEED,
  PROTO_KEYS,
  Rng,
  WRONG_JSON_VALUES,
  casesFor,
  hostileJson,
  nested,
  pollutionWatch,
  put,
} from './support/hostile';
import { readEverything as readAllEvents } from '../support/readEverything';

const API_CASES_PER_BACKEND = casesFor(0.1); // two backends: 20 % of the run
const CONFIG_CASES = casesFor(0.1);
const CALL_TIMEOUT_MS = 20_000; // a hang, not a slow call: generous on a shared 2-core machine
const figures = {
  apiCalls: 0,
  apiOk: 0,
  apiOkByMethod: {} as Record<string, number>,
  apiErrors: {} as Record<string, number>,
  configs: 0,
  paths: 0,
};
const tmp = mkdtempSync(join(tmpdir(), 'chronoscope-fuzz-api-'));
console.info(`fuzz api/config: seed ${FUZZ_SEED} (CHRONOSCOPE_FUZZ_SEED=${FUZZ_SEED} replays)`);

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
  console.info(`fuzz api/config figures: ${JSON.stringify(figures)}`);
});

const METHODS = Object.keys(apiParamSchemas);
const ODD_METHODS: unknown[] = [
  '',
  'nope',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'STATS',
  ' stats',
  null,
  5,
  {},
  ['stats'],
  undefined,
];

/** The keys a method's params object takes, read from its zod schema (new methods are fuzzed automatically). */
function paramKeys(schema: unknown): string[] {
  let s = schema as {
    shape?: Record<string, unknown>;
    unwrap?: () => unknown;
    _zod?: { def?: { in?: unknown } };
  };
  for (let i = 0; i < 5 && !s.shape; i++) s = (s.unwrap?.() ?? s._zod?.def?.in ?? s) as typeof s;
  return s.shape ? Object.keys(s.shape) : [];
}

let knownId = 'none';
/** Plausible values by param name, so some calls get past validation and exercise the handlers. */
function plausible(r: Rng, key: string): unknown {
  switch (key) {
    case 'events':
      return Array.from({ length: 1 + r.int(3) }, (_, i) => ({
        stream: `Api-${r.int(5)}`,
        type: r.pick(['Opened', 'Closed']),
        data: r.chance(0.7) ? { n: r.int(10), i } : hostileJson(r, 3),
        ...(r.chance(0.3) ? { id: `api-${r.int(50)}` } : {}),
      }));
    case 'stream':
    case 'streams':
      return `Api-${r.int(5)}`;
    case 'filter':
      return r.pick([
        {},
        { types: ['Opened'] },
        { stream: 'Api-1' },
        { where: [{ path: 'n', op: 'gt', value: 3 }] },
        { search: 'x' },
      ]);
    case 'options':
      return r.pick([{}, { limit: 5 }, { order: 'desc', limit: 3 }, { cursor: 'a1' }]);
    case 'id':
      return knownId;
    case 'seq':
      return 1 + r.int(5);
    case 'at':
    case 'from':
    case 'to':
      return r.pick([{}, { seq: r.int(5) }, { version: 1 }, { time: '2030-01-01T00:00:00Z' }]);
    case 'where':
      return r.pick([
        'n > 3',
        'count >= 2',
        'data.n == 1',
        'constructor.constructor("return process")().exit(1)',
      ]);
    case 'jobId':
    case 'job':
      return `job-${r.int(3)}`;
    default:
      return 1 + r.int(5);
  }
}

function randomParams(r: Rng, method: string): unknown {
  const keys = paramKeys((apiParamSchemas as Record<string, unknown>)[method]);
  const k = r.int(8);
  if (k === 0) return hostileJson(r, 3);
  if (k === 1) return r.pick([undefined, null, [], 'params', 0, true, nested(10_000, 'object')]);
  const p: Record<string, unknown> = {};
  for (const key of keys) {
    if (r.chance(0.4)) continue;
    const v = r.int(10);
    p[key] = v < 5 ? plausible(r, key) : v < 8 ? r.pick(WRONG_JSON_VALUES) : hostileJson(r, 2);
  }
  if (k === 2) put(p, r.pick(PROTO_KEYS), hostileJson(r, 2));
  if (k === 3) p[`x${r.text(4)}`] = 1;
  return p;
}

/** For messages only: JSON.stringify itself overflows the stack on 10,000 levels. */
function safeJson(v: unknown): string {
  try {
    return String(JSON.stringify(v));
  } catch {
    return '(too deep to print)';
  }
}

interface Envelope {
  ok: boolean;
  value?: unknown;
  error?: { code: string; message: string };
}

async function dispatchWithin(call: () => Promise<unknown>, what: string): Promise<Envelope> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`hang: ${what} did not settle in ${CALL_TIMEOUT_MS} ms`)),
      CALL_TIMEOUT_MS,
    );
  });
  try {
    return (await Promise.race([call(), hang])) as Envelope;
  } finally {
    clearTimeout(timer);
  }
}

async function fuzzApi(name: string, store: EventStore): Promise<void> {
  const r = new Rng(FUZZ_SEED, `api-${name}`);
  const internal: string[] = [];
  const api = createApi(store, { onInternalError: (err, m) => internal.push(`${m}: ${String(err)}`) });
  const watch = pollutionWatch();
  const acked = new Map<number, string>(); // seq → id
  const problems: string[] = [];
  for (let i = 1; i <= API_CASES_PER_BACKEND; i++) {
    const method = r.chance(0.06) ? r.pick(ODD_METHODS) : r.pick(METHODS);
    const params = randomParams(r, typeof method === 'string' && METHODS.includes(method) ? method : 'stats');
    const what = `${String(method)}(${safeJson(params).slice(0, 200)})`;
    let res: Envelope;
    try {
      res = await dispatchWithin(() => api.dispatch(method, params), what);
    } catch (err) {
      problems.push(`dispatch threw or hung: ${String(err)} for ${what}`);
      continue;
    }
    figures.apiCalls++;
    if (res.ok) {
      figures.apiOk++;
      figures.apiOkByMethod[String(method)] = (figures.apiOkByMethod[String(method)] ?? 0) + 1;
      if (method === 'append') {
        for (const e of (res.value as { events: StoredEvent[] }).events) {
          acked.set(e.seq, e.id);
          knownId = e.id;
        }
      }
    } else {
      const code = res.error?.code ?? '(none)';
      figures.apiErrors[code] = (figures.apiErrors[code] ?? 0) + 1;
      if (
        !ERROR_CODES.includes(code as never) ||
        code === 'INTERNAL' ||
        typeof res.error?.message !== 'string'
      )
        problems.push(`${code}: ${res.error?.message} for ${what}`);
    }
    try {
      JSON.stringify(res); // both transports serialise the envelope
    } catch (err) {
      problems.push(`envelope not serialisable (${String(err)}) for ${what}`);
    }
    if (i % 300 === 0 || i === API_CASES_PER_BACKEND) {
      expect(internal, `internal errors (${name})`).toEqual([]);
      expect(problems.slice(0, 10), `${problems.length} problems (${name})`).toEqual([]);
      expect(watch.polluted()).toEqual([]);
      const all = await readAllEvents(store);
      expect(all.length, 'stored events vs acknowledged').toBe(store.lastSeq());
      for (const [seq, id] of acked)
        if (all[seq - 1]?.id !== id) problems.push(`acknowledged seq ${seq} (${id}) lost`);
      expect(problems).toEqual([]);
      expect((await store.verify()).issues).toEqual([]);
    }
  }
}

/** Leaf key paths of the config schema with their schemas, found by walking it (new keys are covered automatically). */
function configLeaves(schema: z.ZodType, prefix: string[] = []): { path: string[]; schema: z.ZodType }[] {
  let s = schema as z.ZodType & { unwrap?: () => z.ZodType };
  while (s instanceof z.ZodDefault || s instanceof z.ZodOptional) s = s.unwrap!() as typeof s;
  if (s instanceof z.ZodObject)
    return Object.entries(s.shape as Record<string, z.ZodType>).flatMap(([k, v]) =>
      configLeaves(v, [...prefix, k]),
    );
  return [{ path: prefix, schema }];
}

function nestedConfig(path: string[], v: unknown): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  let o = root;
  path.forEach((k, i) => {
    if (i === path.length - 1) o[k] = v;
    else o = o[k] = {} as Record<string, unknown>;
  });
  return root;
}

describe(`hostile API calls through the handler table (seed ${FUZZ_SEED})`, () => {
  it('random and malformed params for every method on a memory store: typed error envelopes, never a throw, INTERNAL or hang', async () => {
    const s = new MemoryStore();
    try {
      await fuzzApi('memory', s);
    } finally {
      await s.close();
    }
  }, 180_000);

  it('the same on a file store, which keeps every acknowledged append and verifies clean', async () => {
    const s = await FileStore.open(join(tmp, 'api-store'), {
      segmentMaxBytes: 32 * 1024,
      sealInWorker: false,
    });
    try {
      await fuzzApi('file', s);
    } finally {
      await s.close();
    }
  }, 180_000);

  it('an appended meta key "__proto__" survives the API as a plain key (regression: param validation dropped it)', async () => {
    const s = new MemoryStore();
    const api = createApi(s);
    const body = JSON.parse('{"events":[{"stream":"s","type":"t","meta":{"__proto__":{"x":1},"a":1}}]}');
    const res = (await api.dispatch('append', body)) as Envelope;
    expect(res.ok).toBe(true);
    expect(JSON.stringify((await s.readAll(1, 1))[0]!.meta)).toBe('{"__proto__":{"x":1},"a":1}');
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    await s.close();
  });

  it('requests of any shape through the IPC binding get an envelope', async () => {
    let listener: ((e: unknown, ...a: unknown[]) => unknown) | undefined;
    const ipc: IpcMainLike = {
      handle: (_c, l) => (listener = l),
      removeHandler: () => (listener = undefined),
    };
    const s = new MemoryStore();
    bindIpc(ipc, createApi(s));
    const r = new Rng(FUZZ_SEED, 'ipc');
    for (let i = 0; i < 200; i++) {
      const req = r.chance(0.5)
        ? hostileJson(r, 3)
        : { method: r.pick([...METHODS, ...ODD_METHODS]), params: hostileJson(r, 2) };
      const res = (await listener!({}, req)) as Envelope;
      expect(typeof res.ok, JSON.stringify(req)).toBe('boolean');
      if (!res.ok) expect(res.error!.code).not.toBe('INTERNAL');
    }
    await s.close();
  });
});

describe(`hostile configs (seed ${FUZZ_SEED})`, () => {
  const leaves = configLeaves(configSchema);
  const WRONG: unknown[] = [
    ...WRONG_JSON_VALUES,
    NaN,
    Infinity,
    -Infinity,
    1e308,
    -1e308,
    2 ** 64,
    'file',
    'memory',
  ];

  it('every key of the config schema with every wrong value: INVALID_CONFIG naming exactly that key', () => {
    expect(leaves.map((l) => l.path.join('.'))).toEqual(
      expect.arrayContaining(['backend', 'store', 'file.segmentMaxBytes', 'query.defaultLimit']),
    );
    for (const leaf of leaves) {
      const key = leaf.path.join('.');
      for (const v of WRONG) {
        figures.configs++;
        const accepted = leaf.schema.safeParse(v).success;
        try {
          parseConfig(nestedConfig(leaf.path, v));
          expect(accepted, `${key} = ${String(v)} was accepted`).toBe(true);
        } catch (err) {
          expect(err, `${key} = ${String(v)}`).toBeInstanceOf(ChronoscopeError);
          const e = err as ChronoscopeError;
          expect(accepted, `${key} = ${String(v)} refused: ${e.message}`).toBe(false);
          expect(e.code).toBe('INVALID_CONFIG');
          // A union leaf (a snapshot strategy object) may name the field inside it: still that key's.
          const named = String(e.details?.key);
          expect(named === key || named.startsWith(`${key}.`), `${named} names ${key}`).toBe(true);
          expect(e.message).toContain(`key ${named}:`);
        }
      }
    }
  });

  it('random hostile config files: loaded or refused with INVALID_CONFIG, never another error or pollution', () => {
    const r = new Rng(FUZZ_SEED, 'config');
    const watch = pollutionWatch();
    const path = join(tmp, 'chronoscope.config.json');
    for (let i = 0; i < CONFIG_CASES; i++) {
      figures.configs++;
      const k = r.int(5);
      let text: string;
      if (k === 0) text = JSON.stringify(hostileJson(r, 4));
      else if (k === 1) {
        const leaf = r.pick(leaves);
        text = JSON.stringify(nestedConfig(leaf.path, r.pick(WRONG_JSON_VALUES)));
      } else if (k === 2)
        text = `{"${r.pick(PROTO_KEYS)}":${JSON.stringify(hostileJson(r, 2))},"backend":"memory"}`;
      else if (k === 3)
        text = r.pick([
          '',
          '{',
          '{"backend":',
          '\ufeff{}',
          'null',
          '[]',
          '{"a":1}{"b":2}',
          '{"file":{"segmentMaxBytes":1e400}}',
        ]);
      else
        text = JSON.stringify({
          backend: r.pick(['file', 'memory']),
          store: r.pick(['../elsewhere', 'a/../../b', 'store', '/abs/path']),
        });
      writeFileSync(path, text);
      try {
        const { config } = loadConfig(path);
        expect(['file', 'memory']).toContain(config.backend);
        if (config.store !== undefined) expect(config.store.startsWith('/')).toBe(true); // resolved against the file
      } catch (err) {
        expect(err, text.slice(0, 200)).toBeInstanceOf(ChronoscopeError);
        expect((err as ChronoscopeError).code, text.slice(0, 200)).toBe('INVALID_CONFIG');
        expect((err as ChronoscopeError).message).toContain(path);
      }
    }
    expect(watch.polluted()).toEqual([]);
  });

  it('a store path with a NUL byte in the config is refused naming the key (regression: Node threw an untyped TypeError)', () => {
    const path = join(tmp, 'nul.config.json');
    writeFileSync(path, JSON.stringify({ store: 'a\u0000b' }));
    expect(() => loadConfig(path)).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIG', details: expect.objectContaining({ key: 'store' }) }),
    );
  });

  it('odd store paths: traversal is resolved against the config file, and a path through a file fails without creating anything', async () => {
    const cfg = join(tmp, 'sub', 'chronoscope.config.json');
    rmSync(join(tmp, 'sub'), { recursive: true, force: true });
    writeFileSync(join(tmp, 'plainfile'), 'x');
    const { mkdirSync, existsSync } = await import('node:fs');
    mkdirSync(join(tmp, 'sub'));
    writeFileSync(cfg, JSON.stringify({ store: '../traversed-store' }));
    figures.paths += 2;
    expect(loadConfig(cfg).config.store).toBe(join(tmp, 'traversed-store'));
    const bad = join(tmp, 'plainfile', 'store');
    await expect(openStore(parseConfig({}), { path: bad })).rejects.toThrow(/ENOTDIR|not a directory/);
    expect(existsSync(join(tmp, 'plainfile', 'store'))).toBe(false);
  });

  // Was a known bug (mkdirSync's TypeError / ENAMETOOLONG / ENOTDIR escaped untyped); fixed in FileStore.open.
  it('a store path Node refuses (NUL byte, 300-byte name, through a file) fails with a typed error', async () => {
    const paths = [join(tmp, 'a\u0000b'), join(tmp, 'x'.repeat(300)), join(tmp, 'plainfile', 'store')];
    for (const path of paths) {
      figures.paths++;
      const err = await openStore(parseConfig({}), { path }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, path).toBeInstanceOf(ChronoscopeError);
    }
  });
});
