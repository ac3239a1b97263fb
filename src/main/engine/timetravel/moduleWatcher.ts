import { watch, type FSWatcher } from 'chokidar';

/**
 * Watches a user module and every local file it imports (esbuild's metafile inputs) and calls
 * `onChange` once per burst of changes: editors often write a file in several steps, and one save
 * must mean one rebuild.
 */
export class ModuleWatcher {
  #files: Set<string>;
  #timer: NodeJS.Timeout | undefined;

  private constructor(
    readonly watcher: FSWatcher,
    files: string[],
    onChange: () => void,
    debounceMs: number,
  ) {
    this.#files = new Set(files);
    const fire = () => {
      clearTimeout(this.#timer);
      this.#timer = setTimeout(onChange, debounceMs);
    };
    watcher.on('change', fire).on('add', fire).on('unlink', fire);
  }

  static async start(files: string[], onChange: () => void, debounceMs = 60): Promise<ModuleWatcher> {
    // atomic: an editor's write-to-temp-then-rename counts as a change of the file itself.
    const w = watch(files, { ignoreInitial: true, atomic: true });
    await new Promise<void>((resolve, reject) => {
      w.once('ready', resolve);
      w.once('error', reject);
    });
    return new ModuleWatcher(w, files, onChange, debounceMs);
  }

  /** Follows the current set of inputs after a rebuild (an import added or removed). */
  set(files: string[]): void {
    const next = new Set(files);
    const gone = [...this.#files].filter((f) => !next.has(f));
    const added = files.filter((f) => !this.#files.has(f));
    if (gone.length) this.watcher.unwatch(gone);
    if (added.length) this.watcher.add(added);
    this.#files = next;
  }

  async close(): Promise<void> {
    clearTimeout(this.#timer);
    await this.watcher.close();
  }
}
