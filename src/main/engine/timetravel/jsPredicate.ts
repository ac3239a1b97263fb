/**
 * JS-expression predicates for bisect: `state.refunds > state.payments`,
 * `Object.values(state.$counts).some(n => n > 3)`. The expression runs in a fresh node:vm context
 * with no require, process, timers or host objects, string code generation (eval, Function)
 * turned off, Promise/Atomics/WebAssembly removed and `async`/`import` refused, under a timeout
 * per evaluation. The state crosses as JSON text and is parsed and deep-frozen inside the context,
 * so the expression sees only the context's own objects and cannot change the caller's state.
 *
 * The boundary, honestly: node:vm is not a security sandbox. This prevents accidental host access
 * and hangs; it does not stop a determined expression from exhausting memory, and it is meant for
 * the user's own expressions on their own machine, nothing else.
 */
import vm from 'node:vm';
import { ChronoscopeError } from '../../../shared/errors';
import type { StatePredicate } from '../../../shared/projection';

export interface JsPredicateOptions {
  /** Longest one evaluation may run (default 50 ms). */
  timeoutMs?: number;
}

/** A StatePredicate (what bisect accepts) whose test runs a JS expression; it has no JSON clauses. */
export type JsStatePredicate = StatePredicate & { language: 'js' };

const FILE = 'predicate';

/** Runs inside the context once: freezes what the expression could change between evaluations. */
const PRELUDE = `
'use strict';
delete globalThis.Promise; delete globalThis.Atomics; delete globalThis.WebAssembly;
delete globalThis.SharedArrayBuffer; delete Array.fromAsync;
for (const o of [Object, Array, String, Number, Boolean, Math, JSON, Function, Error, Map, Set, RegExp, Date]) {
  Object.freeze(o);
  if (o.prototype) Object.freeze(o.prototype);
}
`;

/** Evaluates the expression on one state (JSON text); returns true/false, or 'E…' describing a throw. */
const RUNNER = (expr: string, exprLine: number) => `(function () {
  'use strict';
  const parse = JSON.parse;
  const isFrozen = Object.isFrozen, freeze = Object.freeze, keys = Object.keys;
  const deepFreeze = (v) => {
    if (v !== null && typeof v === 'object' && !isFrozen(v)) {
      freeze(v);
      for (const k of keys(v)) deepFreeze(v[k]);
    }
    return v;
  };
  const test = function (state) {
    return (
${expr}
    );
  };
  return function run(json) {
    try {
      const r = test(deepFreeze(parse(json)));
      if (r !== null && (typeof r === 'object' || typeof r === 'function') && typeof r.then === 'function')
        return 'E|the expression returned a promise; predicates must be synchronous';
      return !!r;
    } catch (e) {
      let msg;
      try { msg = e !== null && typeof e === 'object' ? String(e.name) + ': ' + String(e.message) : String(e); }
      catch { msg = 'an unprintable value was thrown'; }
      let at = '';
      try { const m = /${FILE}:(\\d+):(\\d+)/.exec(String(e && e.stack)); if (m) { const l = m[1] - ${exprLine}; at = l < 1 ? '1:1' : l + ':' + m[2]; } }
      catch { at = ''; }
      return 'E' + at + '|' + msg;
    }
  };
})()`;

/** Script lines before the expression's first line, to turn script positions into expression ones. */
const EXPR_LINE = RUNNER('\u0000', 0)
  .split('\n')
  .findIndex((l) => l === '\u0000');

const bad = (expr: string, why: string, extra: Record<string, unknown> = {}): never => {
  throw new ChronoscopeError('INVALID_ARGUMENT', `predicate \`${expr}\`: ${why}`, {
    field: 'where',
    expression: expr,
    ...extra,
  });
};

/** Which tokens start an async computation; a rejected one would reach the host's unhandledRejection. */
const ASYNC = /^(async|import)$/;

/**
 * Identifiers outside strings, template text and comments (regex bodies are read as code: a
 * false alarm at worst). Best effort against accidents: the removed globals and the promise
 * check inside the runner are the other two layers.
 */
function codeWords(src: string): { word: string; at: number }[] {
  const out: { word: string; at: number }[] = [];
  let i = 0;
  const depth: number[] = []; // brace depth at each open `${`, to find where template text resumes
  let braces = 0;
  const skipTemplateText = () => {
    while (i < src.length) {
      const c = src[i]!;
      if (c === '\\') i += 2;
      else if (c === '`') return void i++;
      else if (c === '$' && src[i + 1] === '{') {
        depth.push(braces);
        i += 2;
        return;
      } else i++;
    }
  };
  while (i < src.length) {
    const c = src[i]!;
    if (c === '"' || c === "'") {
      for (i++; i < src.length && src[i] !== c; i++) if (src[i] === '\\') i++;
      i++;
    } else if (c === '`') {
      i++;
      skipTemplateText();
    } else if (c === '/' && src[i + 1] === '/') {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      i = end < 0 ? src.length : end + 2;
    } else if (c === '{') {
      braces++;
      i++;
    } else if (c === '}') {
      if (depth.length && depth[depth.length - 1] === braces) {
        depth.pop();
        i++;
        skipTemplateText();
      } else {
        braces--;
        i++;
      }
    } else if (/[A-Za-z_$]/.test(c)) {
      const m = /^[\w$]+/.exec(src.slice(i))!;
      const prev = src.slice(0, i).trimEnd();
      if (!prev.endsWith('.')) out.push({ word: m[0], at: i });
      i += m[0].length;
    } else i++;
  }
  return out;
}

/** "line:column" of an offset in the expression (1-based). */
function lineCol(src: string, at: number): string {
  const before = src.slice(0, at).split('\n');
  return `${before.length}:${before[before.length - 1]!.length + 1}`;
}

/** Where a state stands, when it is one of the generic reducers' states. */
function statePosition(state: unknown): string {
  const s = state as Record<string, unknown> | null;
  if (s && typeof s === 'object') {
    if (typeof s.$lastSeq === 'number') return ` (state at seq ${s.$lastSeq}, version ${String(s.$version)})`;
    if (typeof s.lastSeq === 'number') return ` (state at seq ${s.lastSeq})`;
  }
  return '';
}

/**
 * Compiles `expr` (a JS expression over `state`) into a StatePredicate. Syntax errors, a runtime
 * throw, a timeout or a promise result are ChronoscopeError('INVALID_ARGUMENT') naming the
 * expression and the position (line:column in it; and the state's seq when the state says).
 */
export function compileJsPredicate(expr: string, options: JsPredicateOptions = {}): JsStatePredicate {
  const src = expr.trim();
  if (!src) bad(expr, 'empty');
  const timeout = options.timeoutMs ?? 50;
  if (!Number.isSafeInteger(timeout) || timeout < 1)
    throw new ChronoscopeError('INVALID_ARGUMENT', `timeoutMs: must be an integer ≥ 1, got ${timeout}`, {
      field: 'timeoutMs',
    });
  const asyncWord = codeWords(src).find((w) => ASYNC.test(w.word));
  if (asyncWord)
    bad(src, `\`${asyncWord.word}\` at ${lineCol(src, asyncWord.at)}: predicates must be synchronous`, {
      position: lineCol(src, asyncWord.at),
    });
  let script: vm.Script;
  try {
    script = new vm.Script(RUNNER(src, EXPR_LINE), { filename: FILE });
  } catch (err) {
    // The stack starts "predicate:LINE" then the line and a caret under the offending token.
    const stack = String((err as Error).stack ?? '').split('\n');
    const line = Number(/:(\d+)$/.exec(stack[0] ?? '')?.[1]) - EXPR_LINE;
    const col = (stack[2] ?? '').indexOf('^') + 1;
    const lines = src.split('\n').length;
    // V8 places "missing operand" errors on the wrapper's closing line: that is the expression's end.
    const where = line > lines ? 'the end' : line >= 1 && col >= 1 ? `${line}:${col}` : undefined;
    return bad(src, `syntax error${where ? ` at ${where}` : ''}: ${(err as Error).message}`, {
      ...(where ? { position: where } : {}),
    });
  }
  const context = vm.createContext(Object.create(null), {
    name: 'chronoscope predicate',
    codeGeneration: { strings: false, wasm: false },
    microtaskMode: 'afterEvaluate', // promise jobs run inside the timeout, not later in the host
  });
  vm.runInContext(PRELUDE, context, { timeout });
  const run = script.runInContext(context, { timeout }) as unknown;
  Object.defineProperty(context, '__run', { value: run, enumerable: false });
  const call = new vm.Script('__run(__input)', { filename: 'predicate-call' });
  return {
    source: src,
    language: 'js',
    clauses: [],
    test(state: unknown): boolean {
      const json = JSON.stringify(state);
      if (json === undefined) bad(src, 'the state is not JSON');
      context.__input = json;
      let r: unknown;
      try {
        r = call.runInContext(context, { timeout });
      } catch (err) {
        const e = err as { code?: string; message?: string };
        if (e?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT')
          return bad(src, `took longer than ${timeout} ms${statePosition(state)}`, { timeoutMs: timeout });
        return bad(src, `failed${statePosition(state)}: ${String(e?.message ?? err)}`);
      } finally {
        context.__input = undefined;
      }
      if (typeof r === 'boolean') return r;
      const text = String(r);
      const at = text.slice(1, text.indexOf('|'));
      const msg = text.slice(text.indexOf('|') + 1);
      const hint = /Cannot read properties of (undefined|null)/.test(msg)
        ? ' (use ?. for fields a state may not have yet)'
        : '';
      return bad(
        src,
        `threw${at ? ` at ${at}` : ''}${statePosition(state)}: ${msg}${hint}`,
        at ? { position: at } : {},
      );
    },
  };
}
