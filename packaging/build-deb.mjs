#!/usr/bin/env node
// Builds packaging/out/mwan_<version>_<arch>.deb with dpkg-deb from the built tree (`npm run
// package` builds first). The runtime is the one-file bundle of the CLI and daemon (schemas inside
// it, built-in strategies too) with the committed bin and a package.json that makes it ESM: no
// node_modules, no development dependencies. `mwan` itself is mwan-front, the small native
// program that hands a command line to a running daemon and otherwise runs the node CLI: the
// package is built for this machine's architecture (dpkg --print-architecture). mwan(8) and the
// bash completion are rendered from the CLI's commander definition, the source of `--help`.
//
// Usage: node packaging/build-deb.mjs [--out DIR] [--version DEBIAN_VERSION]
//   --version builds the same tree under another version (the e2e test's upgrade), with a
//   changelog entry saying so.
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';

const repo = fileURLToPath(new URL('../', import.meta.url));
const here = join(repo, 'packaging');
const { values: args } = parseArgs({ options: { out: { type: 'string' }, version: { type: 'string' } } });
const outDir = args.out ?? join(here, 'out');

const cli = JSON.parse(readFileSync(join(repo, 'packages/cli/package.json'), 'utf8'));
const bundle = join(repo, 'packages/cli/dist/mwan.bundle.mjs');
const meta = join(repo, 'packages/cli/dist/mwan.bundle.meta.json');
const front = join(repo, 'packages/cli/dist/mwan-front');
for (const built of [bundle, meta, front, join(repo, 'packages/cli/dist/mwan.hand-over.mjs'), join(repo, 'packages/cli/dist/index.js')]) {
  if (!existsSync(built)) fail(`${relative(repo, built)} is missing: run npm run build first (npm run package does)`);
}
if (!readFileSync(bundle, 'utf8').includes('define_MWAN_BUNDLED_SCHEMAS')) fail('the bundle does not carry the schemas: run npm run build');

// The Debian version is the changelog's; its upstream part must be the CLI's version.
let changelog = readFileSync(join(here, 'debian/changelog'), 'utf8');
const top = /^mwan \(([^)]+)\)/.exec(changelog);
if (!top) fail('packaging/debian/changelog: no "mwan (VERSION)" first line');
const changelogVersion = top[1];
if (changelogVersion.replace(/-[^-]+$/, '') !== cli.version) {
  fail(`packaging/debian/changelog is at ${changelogVersion}, packages/cli/package.json at ${cli.version}: add a changelog entry`);
}
const changelogDate = /^ -- .+ {2}(.+)$/m.exec(changelog)?.[1];
if (!changelogDate) fail('packaging/debian/changelog: no " -- name <mail>  date" trailer line');
const version = args.version ?? changelogVersion;
if (args.version) {
  changelog = `mwan (${version}) unstable; urgency=medium\n\n  * Rebuild of ${changelogVersion} as ${version}.\n\n -- ${/^ -- (.+?) {2}/m.exec(changelog)[1]}  ${changelogDate}\n\n${changelog}`;
}
const date = new Date(changelogDate).toISOString().slice(0, 10);

// The CLI's program, as `mwan --help` builds it, for the man page and the completion.
const { BUILTIN_STRATEGIES, createContainer, createProgram, renderBashCompletion, renderManPage } = await import(
  new URL('../packages/cli/dist/index.js', import.meta.url).href
);
const program = createProgram({ container: createContainer(), io: { out: () => {}, err: () => {} }, env: {} });

const root = mkdtempSync(join(tmpdir(), 'mwan-deb-'));
// mkdtemp makes it 0700: the package's ./ must be 0755 like / itself.
chmodSync(root, 0o755);
try {
  /** Writes a file of the package (path from /), making its directories. */
  const put = (path, content, mode = 0o644) => {
    const file = join(root, path);
    mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
    writeFileSync(file, content);
    chmodSync(file, mode);
  };
  const copy = (path, from, mode = 0o644) => put(path, readFileSync(join(repo, from)), mode);
  const gz = (text) => gzipSync(text, { level: 9 });

  // The runtime: bin/mwan.js imports ../dist/mwan.hand-over.mjs (a command line for a running
  // daemon), then ../dist/mwan.bundle.mjs; the revert timer of `apply --confirm`
  // starts bin/mwan.js again; program.ts reads the version from ../package.json.
  put('usr/lib/mwan/package.json', `${JSON.stringify({ name: 'mwan', version: cli.version, private: true, type: 'module', description: 'the mwan runtime of the Debian package: see /usr/share/doc/mwan' }, null, 2)}\n`);
  // The node of the `nodejs (>= 20)` dependency, not whichever `node` comes first in PATH
  // (systemd's PATH has /usr/local/bin first).
  const binText = readFileSync(join(repo, 'packages/cli/bin/mwan.js'), 'utf8');
  if (!binText.startsWith('#!/usr/bin/env node\n')) fail('packages/cli/bin/mwan.js no longer starts with #!/usr/bin/env node');
  put('usr/lib/mwan/bin/mwan.js', binText.replace('#!/usr/bin/env node\n', '#!/usr/bin/node\n'), 0o755);
  copy('usr/lib/mwan/dist/mwan.bundle.mjs', 'packages/cli/dist/mwan.bundle.mjs');
  copy('usr/lib/mwan/dist/mwan.hand-over.mjs', 'packages/cli/dist/mwan.hand-over.mjs');
  // mwan-front finds the CLI at ../bin/mwan.js from its own real path.
  copy('usr/lib/mwan/dist/mwan-front', 'packages/cli/dist/mwan-front', 0o755);
  // Stripped as dh_strip would (lintian asks for it), where binutils' strip is installed; as built otherwise.
  const strip = await execa('strip', ['--strip-unneeded', '--remove-section=.comment', '--remove-section=.note', join(root, 'usr/lib/mwan/dist/mwan-front')], { reject: false });
  if (strip.failed && strip.code !== 'ENOENT') fail(`strip failed on mwan-front: ${strip.stderr || strip.message}`);
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  symlinkSync('../lib/mwan/dist/mwan-front', join(root, 'usr/bin/mwan'));

  copy('lib/systemd/system/mwan.service', 'packaging/mwan.service');
  copy('etc/mwan/mwan.json', 'packaging/mwan.json');
  put('usr/share/man/man8/mwan.8.gz', gz(renderManPage(program, { date })));
  put('usr/share/bash-completion/completions/mwan', renderBashCompletion(program, { values: { '--strategy': BUILTIN_STRATEGIES.map((s) => s.name) } }));

  const doc = 'usr/share/doc/mwan';
  put(`${doc}/copyright`, copyright());
  put(`${doc}/changelog.Debian.gz`, gz(changelog));
  copy(`${doc}/README.md`, 'README.md');
  copy(`${doc}/packaging.md`, 'packaging/README.md');
  for (const page of ['cli.md', 'health.md', 'writing-a-strategy.md']) copy(`${doc}/${page}`, `docs/${page}`);
  copy(`${doc}/mwan.schema.json`, 'schemas/mwan.schema.json');
  copy(`${doc}/examples/two-links.json`, 'examples/two-links.json');
  copy(`${doc}/examples/90-mwan.conf`, 'packaging/sysctl.d/90-mwan.conf');
  copy('usr/share/lintian/overrides/mwan', 'packaging/debian/lintian-overrides');

  const conffiles = ['/etc/mwan/mwan.json'];
  const files = walk(root);
  const md5sums = files
    .filter((f) => !lstatSync(join(root, f)).isSymbolicLink() && !conffiles.includes(`/${f}`))
    .map((f) => `${createHash('md5').update(readFileSync(join(root, f))).digest('hex')}  ${f}\n`)
    .join('');
  // As dpkg-gencontrol counts: each file its size in KiB rounded up, each directory and symlink 1 KiB.
  const installedKiB = [...walk(root, true)].reduce((sum, f) => {
    const stat = lstatSync(join(root, f));
    return sum + (stat.isFile() ? Math.ceil(stat.size / 1024) : 1);
  }, 0);

  const arch = (await execa('dpkg', ['--print-architecture'])).stdout.trim();
  const control = readFileSync(join(here, 'debian/control'), 'utf8').replace('@VERSION@', version).replace('@ARCH@', arch).replace('@INSTALLED_SIZE@', String(installedKiB));
  put('DEBIAN/control', control);
  put('DEBIAN/conffiles', `${conffiles.join('\n')}\n`);
  put('DEBIAN/md5sums', md5sums);
  for (const script of ['postinst', 'prerm', 'postrm']) copy(`DEBIAN/${script}`, `packaging/debian/${script}`, 0o755);

  mkdirSync(outDir, { recursive: true });
  const deb = join(outDir, `mwan_${version}_${arch}.deb`);
  await execa('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', root, deb], { stdout: 'ignore' });
  process.stdout.write(`${deb}\n`);
  process.stderr.write(`mwan ${version}: installed size ${installedKiB} KiB\n`);
} finally {
  rmSync(root, { recursive: true, force: true });
}

function fail(message) {
  process.stderr.write(`build-deb: ${message}\n`);
  process.exit(2);
}

/** Paths (relative to dir, sorted) of the files and symlinks under dir; with `dirs`, of its directories too (not DEBIAN). */
function walk(dir, dirs = false, prefix = '') {
  const found = [];
  for (const entry of readdirSync(join(dir, prefix), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (path === 'DEBIAN') continue;
    if (entry.isDirectory()) {
      if (dirs) found.push(path);
      found.push(...walk(dir, dirs, path));
    } else found.push(path);
  }
  return found;
}

/**
 * debian/copyright (machine-readable): mwan's own notice (packaging/debian/copyright), then one
 * stanza for the bundle naming every npm package it holds with its licence and holder, read from
 * the bundle's metafile, then the licence texts (packaging/debian/licenses/).
 */
function copyright() {
  const own = readFileSync(join(here, 'debian/copyright'), 'utf8').trimEnd();
  const ownLicense = /^License: (\S+)/m.exec(own)?.[1] ?? fail('packaging/debian/copyright: no License line');
  const packages = new Map();
  for (const input of Object.keys(JSON.parse(readFileSync(meta, 'utf8')).inputs)) {
    // The last node_modules/<name> of the path: nested copies are packages of their own.
    const match = /^(.*node_modules\/((?:@[^/]+\/)?[^/]+))\//.exec(input);
    if (match && !packages.has(match[1])) packages.set(match[1], match[2]);
  }
  const licenses = new Set();
  const holders = new Set(['2026 mwan maintainers']);
  const listed = [...packages].sort(([, a], [, b]) => a.localeCompare(b)).map(([dir, name]) => {
    const pkg = JSON.parse(readFileSync(join(repo, dir, 'package.json'), 'utf8'));
    const license = typeof pkg.license === 'string' ? pkg.license : fail(`${name}: no licence in its package.json`);
    licenses.add(license);
    const notice = readdirSync(join(repo, dir)).find((f) => /^(licen[sc]e|copying)/i.test(f));
    const line = notice ? /^\s*Copyright\b(.+)$/im.exec(readFileSync(join(repo, dir, notice), 'utf8'))?.[1] : undefined;
    const holder = (line?.replace(/^\s*(\(c\)|©)?\s*/i, '').trim() || (typeof pkg.author === 'string' ? pkg.author : pkg.author?.name)) ?? `the authors of ${name}`;
    holders.add(holder);
    return ` ${name} ${pkg.version}: ${license}, ${holder}`;
  });
  const bundle = [
    'Files: usr/lib/mwan/dist/mwan.bundle.mjs',
    `Copyright: ${[...holders].join('\n ')}`,
    `License: ${[ownLicense, ...[...licenses].sort()].join(' and ')}`,
    'Comment: The one-file bundle holds mwan\'s own code and these npm packages:',
    ...listed,
  ].join('\n');
  const texts = [...licenses].sort().map((license) => {
    const file = join(here, 'debian/licenses', license);
    if (!existsSync(file)) fail(`the bundle holds a package under "${license}", which packaging/debian/licenses/ has no text for`);
    return `License: ${license}\n${readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => (l.trim() ? ` ${l}` : ' .')).join('\n')}`;
  });
  return `${[own, bundle, ...texts].join('\n\n')}\n`;
}
