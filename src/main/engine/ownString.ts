/**
 * A copy of `s` that holds only its own characters. In V8 a substring of 13 or more characters is
 * a view of its parent, so a name cut from an imported line (a stream id in `metadata`) and kept
 * for the store's life would keep that whole line alive: ~400 bytes a stream on a typical log,
 * and a 16 MiB line's worth for a stream named in one. Prepending a character makes a pair that
 * `slice` has to flatten into a fresh string first, so the result views that copy instead.
 * Only for strings kept long (one per stream), not for every event: it costs a copy.
 */
export function ownString(s: string): string {
  return s.length < 13 ? s : (' ' + s).slice(1);
}
