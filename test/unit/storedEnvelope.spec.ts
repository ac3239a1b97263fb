import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseStoredEnvelope } from '../../src/main/engine/file/storedEnvelope';
import { parseStoredLine, storedLine, type StoredEvent } from '../../src/shared/event';

/** Strings that try to fool a raw-bytes search for the data key. */
const tricky = fc.oneof(
  fc.string({ minLength: 1 }),
  fc.constantFrom(',"data":', '","data":{"x":1}', '\\",\\"data\\":', 'a"b', '\\', 'é,"data":', '🙂'),
);

const stored = fc.record({
  seq: fc.integer({ min: 1, max: 1e9 }),
  id: tricky,
  stream: tricky,
  version: fc.integer({ min: 1, max: 1e6 }),
  type: tricky,
  actor: fc.option(tricky, { nil: undefined }),
  correlationId: fc.option(tricky, { nil: undefined }),
  tags: fc.option(fc.array(tricky, { maxLength: 3 }), { nil: undefined }),
  data: fc.jsonValue(),
  meta: fc.option(fc.dictionary(tricky, fc.jsonValue()), { nil: undefined }),
});

/** Built as the sequencer builds it: envelope fields in order, data and meta last. */
type Stored = typeof stored extends fc.Arbitrary<infer T> ? T : never;
function event(r: Stored): StoredEvent {
  const e = {
    seq: r.seq,
    id: r.id,
    stream: r.stream,
    version: r.version,
    type: r.type,
    time: '2026-01-01T00:00:00.000Z',
    recordedAt: '2026-01-02T00:00:00.000Z',
    tenant: 'default',
  } as StoredEvent;
  if (r.actor !== undefined) e.actor = r.actor;
  if (r.correlationId !== undefined) e.correlationId = r.correlationId;
  if (r.tags !== undefined) e.tags = r.tags;
  e.data = (r.data ?? null) as StoredEvent['data'];
  if (r.meta !== undefined) e.meta = r.meta as StoredEvent['meta'];
  return e;
}

const envelopeOf = (e: StoredEvent) => {
  const { data: _d, meta: _m, ...rest } = e;
  return rest;
};

describe('parseStoredEnvelope', () => {
  it('reads exactly the envelope the full parse reads, whatever the strings hold', () => {
    fc.assert(
      fc.property(stored, (r) => {
        const line = Buffer.from(storedLine(event(r)));
        const full = parseStoredLine(line.toString('utf8'), 'x');
        expect(envelopeOf(parseStoredEnvelope(line, 'x'))).toEqual(envelopeOf(full));
      }),
      { numRuns: 500 },
    );
  });

  it('falls back to the full parse for a line whose prefix is not a whole envelope', () => {
    const line = Buffer.from(
      '{"data":{"a":1},"seq":3,"id":"i","stream":"s","version":1,"type":"t","time":"2026-01-01T00:00:00.000Z","recordedAt":"2026-01-01T00:00:00.000Z","tenant":"default","actor":"u"}',
    );
    expect(parseStoredEnvelope(line, 'x').actor).toBe('u');
    expect(
      parseStoredEnvelope(
        Buffer.from(
          '{"seq":3,"data":{},"id":"i","stream":"s","version":1,"type":"t","time":"2026-01-01T00:00:00.000Z","recordedAt":"2026-01-01T00:00:00.000Z","tenant":"default"}',
        ),
        'x',
      ).id,
    ).toBe('i');
  });

  it('names the line when it is not an envelope', () => {
    expect(() => parseStoredEnvelope(Buffer.from('{"seq":1,"data":{}}'), 'seg line 4')).toThrow(
      /seg line 4: not a stored event envelope/,
    );
    expect(() => parseStoredEnvelope(Buffer.from('{"seq":1,"id":'), 'seg line 5')).toThrow(
      /seg line 5: not valid JSON/,
    );
  });
});
