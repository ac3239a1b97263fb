import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configJsonSchema, loadConfig, parseConfig } from '../../src/main/engine/config';
import { tempDir } from '../conformance/backends';

describe('configuration', () => {
  it('an empty config gives the documented defaults', () => {
    const c = parseConfig({});
    expect(c.backend).toBe('file');
    expect(c.file.segmentMaxBytes).toBe(16 << 20);
    expect(c.query.defaultLimit).toBe(100);
  });

  it('an unknown key is named with its path', () => {
    expect(() => parseConfig({ file: { segmentMaxByte: 5 } })).toThrow(
      /key file\.segmentMaxByte: unknown key/,
    );
    expect(() => parseConfig({ bakend: 'file' })).toThrow(/key bakend: unknown key/);
  });

  it('a bad value names the key and why', () => {
    expect(() => parseConfig({ backend: 'postgres-ish' })).toThrow(/key backend: /);
    expect(() => parseConfig({ file: { compressionLevel: 11 } })).toThrow(
      /key file\.compressionLevel: .*<=9/,
    );
  });

  it('snapshot strategies are checked field by field, and a bad one names its key', () => {
    const c = parseConfig({
      snapshots: {
        strategy: { kind: 'time', intervalMs: 60_000 },
        globalStrategy: { kind: 'count', every: 5000 },
      },
    });
    expect(c.snapshots.strategy).toEqual({ kind: 'time', intervalMs: 60_000 });
    expect(() => parseConfig({ snapshots: { strategy: { kind: 'count', every: 0 } } })).toThrow(
      /key snapshots\.strategy\.every: /,
    );
    expect(() => parseConfig({ snapshots: { strategy: { kind: 'sometimes' } } })).toThrow(
      /snapshots\.strategy/,
    );
  });

  it('store paths are resolved relative to the config file; a missing explicit file is an error', () => {
    const t = tempDir();
    try {
      const path = join(t.dir, 'chronoscope.config.json');
      writeFileSync(path, JSON.stringify({ store: 'events' }));
      expect(loadConfig(undefined, t.dir).config.store).toBe(join(t.dir, 'events'));
      writeFileSync(path, '{ nope');
      expect(() => loadConfig(path)).toThrow(/not valid JSON/);
      expect(() => loadConfig(join(t.dir, 'missing.json'))).toThrow(/does not exist/);
    } finally {
      t.remove();
    }
  });

  it('the JSON Schema lists every key with its description', () => {
    const s = configJsonSchema() as {
      properties: Record<string, { properties?: Record<string, { description?: string }> }>;
    };
    expect(Object.keys(s.properties)).toEqual(expect.arrayContaining(['backend', 'store', 'file', 'query']));
    expect(s.properties.file!.properties!.compressionLevel!.description).toMatch(/gzip level/);
  });
});
