// better-sqlite3 for Electron's ABI (DESIGN §7): Node and Electron load different native ABIs, so
// the desktop app needs its own build of the module. It is built once per Electron version into
// .electron-native/ (from the package's own sources, with Electron's headers) and handed to the
// engine through CHRONOSCOPE_SQLITE_BINDING; the Node build in node_modules stays untouched.
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** Where the Electron build of better-sqlite3 for this Electron version and platform lives. */
export function electronBindingPath(root, electronVersion, platform = process.platform, arch = process.arch) {
  return join(
    root,
    '.electron-native',
    `better_sqlite3-electron-${electronVersion}-${platform}-${arch}.node`,
  );
}

/** The installed Electron's version, or undefined when the package is missing. */
export function electronVersion(root) {
  try {
    return JSON.parse(readFileSync(join(root, 'node_modules', 'electron', 'package.json'), 'utf8')).version;
  } catch {
    return undefined;
  }
}

/** npm ships node-gyp; use that copy so no download is needed for the tool itself. */
function nodeGyp() {
  const bundled = join(
    dirname(process.execPath),
    '..',
    'lib',
    'node_modules',
    'npm',
    'node_modules',
    'node-gyp',
    'bin',
    'node-gyp.js',
  );
  return existsSync(bundled) ? [process.execPath, bundled] : ['npx', '--yes', 'node-gyp'];
}

/**
 * Returns the Electron build's path, building it first when missing. Building needs Electron's
 * headers (node-gyp fetches them from electronjs.org once); on failure returns undefined and says why.
 */
export function ensureElectronBinding(root, version, log = (m) => process.stderr.write(`${m}\n`)) {
  const target = electronBindingPath(root, version);
  if (existsSync(target)) return target;
  const source = join(root, 'node_modules', 'better-sqlite3');
  if (!existsSync(join(source, 'binding.gyp'))) {
    log('better-sqlite3 sources are missing: run npm install');
    return undefined;
  }
  log(`Building better-sqlite3 for Electron ${version} (once; about 1–2 minutes)…`);
  const work = mkdtempSync(join(tmpdir(), 'chronoscope-electron-native-'));
  try {
    cpSync(source, work, { recursive: true, filter: (p) => !p.includes(`${join(source, 'build')}`) });
    const [cmd, ...pre] = nodeGyp();
    const r = spawnSync(
      cmd,
      [
        ...pre,
        'rebuild',
        '--release',
        '--runtime=electron',
        `--target=${version}`,
        '--dist-url=https://electronjs.org/headers',
      ],
      { cwd: work, stdio: 'inherit' },
    );
    const built = join(work, 'build', 'Release', 'better_sqlite3.node');
    if (r.status !== 0 || !existsSync(built)) {
      log('Could not build better-sqlite3 for Electron (it needs Electron headers from electronjs.org).');
      return undefined;
    }
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(built, `${target}.tmp`);
    renameSync(`${target}.tmp`, target);
    return target;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
