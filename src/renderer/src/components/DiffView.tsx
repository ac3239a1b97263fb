import type { DiffEntry } from '@shared/projection';

const SIGN = { added: '+', removed: '−', changed: '~' } as const;

const text = (v: unknown) => {
  const s = JSON.stringify(v) ?? 'undefined';
  return s.length > 160 ? `${s.slice(0, 159)}…` : s;
};

/**
 * A structural diff as a tree: shared parent paths printed once, then one line per added /
 * removed / changed value, coloured by kind. Values are text, never markup.
 */
export function DiffView({ entries, label }: { entries: DiffEntry[]; label: string }) {
  if (entries.length === 0)
    return (
      <div className="diff empty" aria-label={label}>
        No differences.
      </div>
    );
  const lines: { key: string; depth: number; node: React.ReactNode }[] = [];
  let printed: string[] = [];
  entries.forEach((d, i) => {
    const parents = d.path.slice(0, -1);
    let common = 0;
    while (common < parents.length && parents[common] === printed[common]) common++;
    for (let j = common; j < parents.length; j++)
      lines.push({ key: `${i}-p${j}`, depth: j, node: <span className="diff-parent">{parents[j]}</span> });
    printed = parents;
    const name = d.path.length ? d.path[d.path.length - 1] : '(root)';
    lines.push({
      key: `${i}`,
      depth: parents.length,
      node: (
        <span className={`diff-${d.kind}`} data-kind={d.kind}>
          {SIGN[d.kind]} {name}:{' '}
          {d.kind === 'changed' ? (
            <>
              <span className="diff-before">{text(d.before)}</span> → <span>{text(d.after)}</span>
            </>
          ) : (
            text(d.kind === 'added' ? d.after : d.before)
          )}
        </span>
      ),
    });
  });
  return (
    <div className="diff" aria-label={label} data-testid="diff">
      {lines.map((l) => (
        <div key={l.key} className="diff-line" style={{ paddingLeft: `${l.depth * 14}px` }}>
          {l.node}
        </div>
      ))}
    </div>
  );
}
