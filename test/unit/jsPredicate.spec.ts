/**
 * JS-expression predicates: what they compute, how they fail (INVALID_ARGUMENT naming the
 * expression and the position), and what hostile expressions actually do. node:vm is not a
 * security sandbox; these tests pin down the boundary we do promise: no host globals, no string
 * code generation, no hang, no change to the caller's state or to the host's built-ins.
 */
import { describe, expect, it } from 'vitest';
import { isChronoscopeError } from '../../src/shared/errors';
import { MemoryStore } from '../../src/main/engine/memory/MemoryStore';
import { bisectGlobal, bisectStream } from '../../src/main/engine/timetravel/bisect';
import { compileJsPredicate } from '../../src/main/engine/timetravel/jsPredicate';

const fails = (expr: string, state: unknown = {}) => {
  try {
    compileJsPredicate(expr).test(state);
  } catch (err) {
    expect(isChronoscopeError(err, 'INVALID_ARGUMENT')).toBe(true);
    return err as Error & { details: Record<string, unknown> };
  }
  throw new Error(`expected \`${expr}\` to fail`);
};

describe('compileJsPredicate', () => {
  it('evaluates expressions over the state', () => {
    const s = { refunds: 2, payments: 1, $counts: { OrderPlaced: 1, RefundIssued: 4 } };
    expect(compileJsPredicate('state.refunds > state.payments').test(s)).toBe(true);
    expect(compileJsPredicate('Object.values(state.$counts).some(n => n > 3)').test(s)).toBe(true);
    expect(compileJsPredicate('state.missing?.deep > 1').test(s)).toBe(false);
    expect(
      compileJsPredicate('`${state.refunds}` === "2" && /Refund/.test(Object.keys(state.$counts))').test(s),
    ).toBe(true);
    const p = compileJsPredicate('  state.x  ');
    expect(p).toMatchObject({ source: 'state.x', language: 'js', clauses: [] });
    expect(p.test({ x: 0 })).toBe(false); // truthiness, as bisect expects a boolean
    expect(p.test({ x: 'yes' })).toBe(true);
  });

  it('gives the expression a deep-frozen copy: the caller’s state never changes', () => {
    const state = { a: 1, nested: { list: [1, 2] } };
    const e = fails('(state.nested.list.push(3), true)', state);
    expect(e.message).toMatch(/not extensible|read only|Cannot add property/);
    expect(fails('state.a = 2', state).message).toContain('read only');
    expect(state).toEqual({ a: 1, nested: { list: [1, 2] } });
  });

  it('names the expression and the position of a syntax error', () => {
    const e = fails('state.a > ');
    expect(e.message).toBe("predicate `state.a >`: syntax error at the end: Unexpected token ')'");
    expect(e.details).toMatchObject({ field: 'where', expression: 'state.a >', position: 'the end' });
    expect(fails('state.a ** ** 2').details.position).toBe('1:12');
    expect(fails('').message).toContain('empty');
    // Statements are not expressions.
    expect(fails('while (true) {}').message).toContain("syntax error at 1:1: Unexpected token 'while'");
  });

  it('names the expression, its position and the state’s seq for a runtime error', () => {
    const e = fails('state.items.length > 3', { $counts: {}, $lastSeq: 9, $version: 3 });
    expect(e.message).toBe(
      "predicate `state.items.length > 3`: threw at 1:13 (state at seq 9, version 3): TypeError: Cannot read properties of undefined (reading 'length') (use ?. for fields a state may not have yet)",
    );
    expect(e.details.position).toBe('1:13');
    expect(fails('1 &&\n  state.q.w', { lastSeq: 4 }).message).toContain('threw at 2:11 (state at seq 4)');
    expect(fails('(() => { throw "plain" })()').message).toContain(': plain');
    expect(fails('(() => { throw { get message() { throw 1 } } })()').message).toContain('unprintable');
  });

  it('stops an endless loop at the timeout, and stays usable after it', () => {
    const p = compileJsPredicate('state.spin ? (() => { for (;;) {} })() : state.ok', { timeoutMs: 30 });
    // Returning at all is the proof: without the timeout this call never comes back.
    expect(() => p.test({ spin: true })).toThrow(/took longer than 30 ms/);
    expect(p.test({ ok: true })).toBe(true);
    expect(() => compileJsPredicate('1', { timeoutMs: 0 })).toThrow(/timeoutMs/);
  });

  it('hostile expressions do not reach the host', () => {
    // No host globals at all.
    expect(
      compileJsPredicate(
        'typeof process + typeof require + typeof setTimeout === "undefinedundefinedundefined"',
      ).test({}),
    ).toBe(true);
    expect(fails('process.exit()').message).toContain('ReferenceError: process is not defined');
    expect(fails('require("fs")').message).toContain('ReferenceError: require is not defined');
    // `this` is undefined in the strict wrapper; the context's own Function cannot compile strings.
    expect(fails("this.constructor.constructor('return process')()").message).toContain('TypeError');
    for (const via of ['state', 'globalThis', '[]', '(() => 1)'])
      expect(fails(`${via}.constructor.constructor('return process')()`).message).toContain(
        'EvalError: Code generation from strings disallowed',
      );
    expect(fails('eval("1")').message).toContain('EvalError');
    // Built-ins are frozen, so one evaluation cannot change the next, nor anything in the host.
    expect(fails('(Object.prototype.polluted = 1)').message).toContain('not extensible');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(fails('(globalThis.__run = 1)').message).toContain('TypeError');
    // No promises: a rejected one would surface in the host's unhandledRejection.
    expect(fails('import("node:fs")').message).toContain('`import` at 1:1: predicates must be synchronous');
    expect(fails('(async () => 1)()').message).toContain('`async` at 1:2');
    expect(
      compileJsPredicate('typeof Promise === "undefined" && typeof Atomics === "undefined"').test({}),
    ).toBe(true);
    // Words inside strings, template text, comments and property names are not code.
    expect(
      compileJsPredicate(
        'state.import == "async import(" /* import */ && `import ${"x"}` != state.async',
      ).test({ import: 'async import(' }),
    ).toBe(true);
    expect(process.exitCode ?? 0).toBe(0);
  });

  it('works as a bisect predicate', async () => {
    const store = new MemoryStore();
    await store.append(
      Array.from({ length: 30 }, (_, i) => ({
        stream: 'Order-1',
        type: i % 3 === 0 ? 'RefundIssued' : 'PaymentReceived',
        data: { n: i },
      })),
    );
    const r = await bisectStream(
      store,
      'Order-1',
      compileJsPredicate('(state.$counts.RefundIssued ?? 0) > 4'),
    );
    expect(r).toMatchObject({ found: true, version: 13, monotone: true });
    const g = await bisectGlobal(store, compileJsPredicate('state.events >= 17'));
    expect(g).toMatchObject({ found: true, seq: 17 });
  });
});
