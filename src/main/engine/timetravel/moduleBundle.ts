import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type BuildFailure, type Message } from 'esbuild';
import { ChronoscopeError } from '../../../shared/errors';

/** A user module bundled to one ESM file: what the worker runs and what snapshot keys hash. */
export interface ModuleBundle {
  /** Absolute path of the module the user wrote. */
  file: string;
  /** The bundled code, with an inline source map so user stacks point at their own files. */
  code: string;
  /** sha256 of the bundled code (without the map): a code change invalidates snapshots. */
  codeHash: string;
  /** Every local file esbuild read (the module and its imports): what hot reload watches. */
  inputs: string[];
}

const where = (m: Message) =>
  m.location ? `${m.location.file}:${m.location.line}:${m.location.column + 1}: ` : '';

/** Bundles a JS/TS module (and its local imports) for Node; a compile error names file and line. */
export async function bundleModule(path: string, what = 'module'): Promise<ModuleBundle> {
  const file = resolve(path);
  if (!existsSync(file) || !statSync(file).isFile())
    throw new ChronoscopeError('NOT_FOUND', `${what} ${path}: no such file`, { file: path });
  const dir = dirname(file);
  let result;
  try {
    result = await build({
      entryPoints: [file],
      absWorkingDir: dir,
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      write: false,
      metafile: true,
      sourcemap: 'external',
      sourcesContent: false,
      // Never written: it fixes where the map's relative source paths start from.
      outfile: join(dir, '.chronoscope-bundle.mjs'),
      // Bundled CommonJS dependencies call require(); an ES module has none of its own.
      banner: {
        js: `import { createRequire as __chronoscopeCreateRequire } from 'node:module';\nconst require = __chronoscopeCreateRequire(${JSON.stringify(file)});`,
      },
      logLevel: 'silent',
    });
  } catch (err) {
    const errors = (err as BuildFailure).errors ?? [];
    const first = errors[0];
    const text = errors.length
      ? errors.map((m) => `${where(m)}${m.text}`).join('\n')
      : (err as Error).message;
    throw new ChronoscopeError('INVALID_ARGUMENT', `${what} ${path} does not compile:\n${text}`, {
      file: first?.location ? resolve(dir, first.location.file) : file,
      line: first?.location?.line,
      column: first?.location ? first.location.column + 1 : undefined,
    });
  }
  const js = result.outputFiles.find((f) => f.path.endsWith('.mjs'))!.text;
  const map = JSON.parse(result.outputFiles.find((f) => f.path.endsWith('.map'))!.text) as {
    sources: string[];
  };
  // Absolute file URLs: the bundle runs from a temp folder, far from the sources.
  map.sources = map.sources.map((s) => pathToFileURL(resolve(dir, s)).href);
  const inline = Buffer.from(JSON.stringify(map)).toString('base64');
  const inputs = Object.keys(result.metafile.inputs)
    .map((p) => resolve(dir, p))
    .filter((p) => !p.includes('/node_modules/'));
  return {
    file,
    code: `${js}\n//# sourceMappingURL=data:application/json;base64,${inline}\n`,
    codeHash: createHash('sha256').update(js).digest('hex'),
    inputs,
  };
}

/** Writes a bundle into `dir` under a name unique to its code, and returns the path. */
export async function writeBundle(b: ModuleBundle, dir: string): Promise<string> {
  const name = basename(b.file)
    .replace(/\.[^.]*$/, '')
    .replace(/[^\w-]/g, '_');
  const path = join(dir, `${name}-${b.codeHash.slice(0, 16)}.mjs`);
  await writeFile(path, b.code, { mode: 0o600 });
  return path;
}
