import { FileStore, type FileStoreOptions } from '../../../src/main/engine/file/FileStore';

/**
 * Keeps track of the stores a fault test opens, so every one is closed after the test even when
 * an assertion fails halfway (a store left open keeps its LOCK and its seal worker busy).
 */
export class OpenStores {
  #open: FileStore[] = [];

  async open(dir: string, options: Partial<FileStoreOptions> = {}): Promise<FileStore> {
    const s = await FileStore.open(dir, options);
    this.#open.push(s);
    return s;
  }

  async close(s: FileStore): Promise<void> {
    await s.close();
    this.#open = this.#open.filter((x) => x !== s);
  }

  /** Closes whatever is still open, ignoring errors (the test has already failed or finished). */
  async closeAll(): Promise<void> {
    for (const s of this.#open) await s.close().catch(() => {});
    this.#open = [];
  }
}
