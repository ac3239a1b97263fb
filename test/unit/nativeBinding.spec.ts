import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain .mjs launcher script without type declarations
import { electronBindingPath, ensureElectronBinding } from '../../bin/electronNative.mjs';
import { openDatabase, sqliteBinding } from '../../src/main/engine/sqlite';

const root = join(import.meta.dirname, '..', '..');
const nodeBuild = join(root, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');

describe("better-sqlite3's native module per runtime", () => {
  const saved = process.env.CHRONOSCOPE_SQLITE_BINDING;
  afterEach(() => {
    if (saved === undefined) delete process.env.CHRONOSCOPE_SQLITE_BINDING;
    else process.env.CHRONOSCOPE_SQLITE_BINDING = saved;
  });

  it('opens databases with the module CHRONOSCOPE_SQLITE_BINDING names', () => {
    process.env.CHRONOSCOPE_SQLITE_BINDING = nodeBuild;
    expect(sqliteBinding()).toBe(nodeBuild);
    const db = openDatabase(':memory:');
    expect(db.prepare('select 40 + 2 as n').get()).toEqual({ n: 42 });
    db.close();
  });

  it('names the variable when the module it points at is missing', () => {
    process.env.CHRONOSCOPE_SQLITE_BINDING = '/nowhere/better_sqlite3.node';
    expect(() => openDatabase(':memory:')).toThrow(/CHRONOSCOPE_SQLITE_BINDING names \/nowhere/);
  });

  it('keeps one Electron build per Electron version and platform, and reuses it', () => {
    const fake = mkdtempSync(join(tmpdir(), 'chronoscope-native-'));
    try {
      const p = electronBindingPath(fake, '38.1.0', 'linux', 'x64');
      expect(p).toBe(join(fake, '.electron-native', 'better_sqlite3-electron-38.1.0-linux-x64.node'));
      mkdirSync(join(fake, '.electron-native'));
      writeFileSync(electronBindingPath(fake, '38.1.0'), 'built before');
      // Present: returned as is, nothing rebuilt (no sources are even needed).
      expect(ensureElectronBinding(fake, '38.1.0', () => {})).toBe(electronBindingPath(fake, '38.1.0'));
      const said: string[] = [];
      expect(ensureElectronBinding(fake, '39.0.0', (m: string) => said.push(m))).toBeUndefined();
      expect(said.join()).toMatch(/better-sqlite3 sources are missing/);
    } finally {
      rmSync(fake, { recursive: true, force: true });
    }
  });
});
