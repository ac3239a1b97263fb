import type { StoredEvent } from '../../../shared/event';
import { ChronoscopeError } from '../../../shared/errors';
import type { BatchProjection } from './batchProjection';
import { UserModule, type UserModuleOptions } from './UserModule';

/** A user projection module seen as a BatchProjection (what stateAt and bisect take). */
export function projectionOf<S>(m: UserModule): BatchProjection<S> {
  if (m.kind !== 'projection')
    throw new ChronoscopeError(
      'INVALID_ARGUMENT',
      `${m.file}: not a projection (it exports ${m.kind} code)`,
      {
        file: m.file,
      },
    );
  const run = async (
    state: string | null,
    events: StoredEvent[],
    opts: { perStream?: boolean; steps?: boolean },
  ) => {
    const r = await m.fold(state, events, opts);
    if (!r.ok) throw m.failure('at', events, r.error).error;
    return r.value;
  };
  return {
    get name() {
      return m.name;
    },
    get scope() {
      return m.scope;
    },
    get codeHash() {
      return m.codeHash;
    },
    init: async () => JSON.parse((await run(null, [], {})).state) as S,
    foldBatch: async (state, events) =>
      events.length ? (JSON.parse((await run(JSON.stringify(state), events, {})).state) as S) : state,
    foldSteps: async (state, events) =>
      ((await run(JSON.stringify(state), events, { steps: true })).steps ?? []).map(
        (s) => JSON.parse(s) as S,
      ),
    foldStreams: async (states, events) => {
      const v = await run(JSON.stringify(states), events, { perStream: true, steps: true });
      return {
        states: JSON.parse(v.state) as Record<string, S>,
        steps: (v.steps ?? []).map((s) => JSON.parse(s) as S),
      };
    },
  };
}

/** Loads a projection module (JS or TS) and returns it with its BatchProjection view; close() the module. */
export async function loadUserProjection<S = unknown>(
  file: string,
  options: Omit<UserModuleOptions, 'kind'> = {},
): Promise<{ module: UserModule; projection: BatchProjection<S> }> {
  const module = await UserModule.load(file, { ...options, kind: 'projection' });
  return { module, projection: projectionOf<S>(module) };
}
