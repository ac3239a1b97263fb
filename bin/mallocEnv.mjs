// glibc raises its mmap threshold (up to 32 MiB) the first time a large mmapped block is freed.
// From then on the engine's churn of 1–16 MiB buffers (id-hash tables, index columns, hot-tier
// chunks) comes from the main brk heap, which cannot hand memory back: in a 20k ev/s ingest it grew
// ~50 MB in four minutes while the V8 heap and external memory stayed flat. A fixed threshold keeps
// large blocks mmapped, so freeing them returns the memory. The user's own setting wins.
export const MALLOC_ENV = { MALLOC_MMAP_THRESHOLD_: String(128 << 10) };

/** `env` with the malloc tuning added (keys the caller already set are kept). */
export function withMallocEnv(env = process.env) {
  return { ...MALLOC_ENV, ...env };
}

/** Whether this process already runs with it (or the platform's malloc is not glibc's). */
export function mallocTuned() {
  return process.platform !== 'linux' || process.env.MALLOC_MMAP_THRESHOLD_ !== undefined;
}
