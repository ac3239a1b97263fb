import { useMemo, useState } from 'react';

type Json = unknown;

/** Children shown per node before "… N more": a state with 100k keys must not freeze the page. */
const MAX_CHILDREN = 300;

const isContainer = (v: Json): v is Record<string, Json> | Json[] => typeof v === 'object' && v !== null;
const entriesOf = (v: Record<string, Json> | Json[]): [string, Json][] =>
  Array.isArray(v) ? v.map((x, i) => [String(i), x]) : Object.keys(v).map((k) => [k, v[k]]);
const pathKey = (path: string[]) => JSON.stringify(path);

/** Short JSON text for a leaf (or a collapsed node's summary); always text, never markup. */
function preview(v: Json): string {
  if (Array.isArray(v)) return `[${v.length}]`;
  if (isContainer(v)) return `{${Object.keys(v).length}}`;
  const s = JSON.stringify(v) ?? 'undefined';
  return s.length > 200 ? `${s.slice(0, 199)}…` : s;
}

/** Paths (as keys) of every node whose key or leaf text contains `q`, plus all their ancestors. */
function matches(root: Json, q: string): Set<string> {
  const hits = new Set<string>();
  const needle = q.toLowerCase();
  const walk = (v: Json, path: string[]): boolean => {
    let hit = path.length > 0 && path[path.length - 1]!.toLowerCase().includes(needle);
    if (isContainer(v)) {
      for (const [k, x] of entriesOf(v)) if (walk(x, [...path, k])) hit = true;
    } else if (preview(v).toLowerCase().includes(needle)) hit = true;
    if (hit) hits.add(pathKey(path));
    return hit;
  };
  walk(root, []);
  return hits;
}

interface NodeProps {
  name: string;
  value: Json;
  path: string[];
  depth: number;
  isOpen(path: string[], depth: number): boolean;
  toggle(path: string[], depth: number): void;
  visible: Set<string> | null;
  changed: Map<string, 'added' | 'removed' | 'changed'>;
}

function Node({ name, value, path, depth, isOpen, toggle, visible, changed }: NodeProps) {
  const key = pathKey(path);
  if (visible && !visible.has(key)) return null;
  const mark = changed.get(key);
  const cls = `tree-key${mark ? ` mark-${mark}` : ''}`;
  if (!isContainer(value))
    return (
      <li className="tree-leaf" data-path={path.join('.')}>
        <span className={cls}>{name}</span>: <span className="tree-value">{preview(value)}</span>
      </li>
    );
  const open = visible !== null || isOpen(path, depth);
  const children = open ? entriesOf(value) : [];
  return (
    <li className="tree-node" data-path={path.join('.')}>
      <button type="button" className="tree-toggle" aria-expanded={open} onClick={() => toggle(path, depth)}>
        {open ? '▾' : '▸'} <span className={cls}>{name}</span>{' '}
        <span className="tree-summary">{preview(value)}</span>
      </button>
      {open && children.length > 0 && (
        <ul>
          {children.slice(0, MAX_CHILDREN).map(([k, v]) => (
            <Node
              key={k}
              name={k}
              value={v}
              path={[...path, k]}
              depth={depth + 1}
              isOpen={isOpen}
              toggle={toggle}
              visible={visible}
              changed={changed}
            />
          ))}
          {children.length > MAX_CHILDREN && (
            <li className="tree-more">… {children.length - MAX_CHILDREN} more</li>
          )}
        </ul>
      )}
    </li>
  );
}

/**
 * A JSON value as a collapsible tree: search (keys and values; matching branches stay open),
 * expand/collapse all, and optional marks on paths (what the current event changed).
 */
export function JsonTree({
  value,
  changed = [],
  label,
}: {
  value: Json;
  changed?: { path: string[]; kind: 'added' | 'removed' | 'changed' }[];
  label: string;
}) {
  const [query, setQuery] = useState('');
  const [openDepth, setOpenDepth] = useState(2);
  const [flipped, setFlipped] = useState<ReadonlySet<string>>(new Set());
  const visible = useMemo(() => (query.trim() ? matches(value, query.trim()) : null), [value, query]);
  const marks = useMemo(() => {
    const m = new Map<string, 'added' | 'removed' | 'changed'>();
    for (const c of changed) m.set(pathKey(c.path), c.kind);
    return m;
  }, [changed]);

  const isOpen = (path: string[], depth: number) => depth < openDepth !== flipped.has(pathKey(path));
  const toggle = (path: string[]) => {
    const next = new Set(flipped);
    const k = pathKey(path);
    if (!next.delete(k)) next.add(k);
    setFlipped(next);
  };
  const all = (depth: number) => {
    setOpenDepth(depth);
    setFlipped(new Set());
  };

  return (
    <div className="tree" aria-label={label}>
      <div className="tree-tools">
        <input
          type="search"
          placeholder="search the state…"
          aria-label={`search ${label}`}
          value={query}
          onChange={(e) => setQuery(e.target.value)}
        />
        <button type="button" onClick={() => all(Infinity)}>
          Expand all
        </button>
        <button type="button" onClick={() => all(1)}>
          Collapse
        </button>
      </div>
      {isContainer(value) ? (
        <ul className="tree-root" data-testid="state-tree">
          {entriesOf(value)
            .slice(0, MAX_CHILDREN)
            .map(([k, v]) => (
              <Node
                key={k}
                name={k}
                value={v}
                path={[k]}
                depth={1}
                isOpen={isOpen}
                toggle={toggle}
                visible={visible}
                changed={marks}
              />
            ))}
        </ul>
      ) : (
        <div className="tree-value" data-testid="state-tree">
          {preview(value)}
        </div>
      )}
      {visible && visible.size === 0 && <div className="empty">Nothing in this state matches.</div>}
    </div>
  );
}
