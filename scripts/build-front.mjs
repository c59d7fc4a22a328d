// Compiles mwan-front (packages/cli/front/mwan-front.c), the native `mwan`: with `mwan watch`
// running it hands the command line to the daemon in about a millisecond, where a node start
// costs some 90 ms of CPU on a small router; otherwise it runs bin/mwan.js. It is built to
// packages/cli/dist/mwan-front, next to dist/../bin/mwan.js, which is where it looks for the CLI.
// CC overrides the compiler (default cc); the flags are the hardening Debian builds with.
import { execFileSync } from 'node:child_process';

const cc = process.env.CC || 'cc';
const flags = [
  '-std=c11', '-O2', '-Wall', '-Wextra', '-Werror', '-D_GNU_SOURCE',
  '-fstack-protector-strong', '-D_FORTIFY_SOURCE=2', '-fPIE', '-pie', '-Wl,-z,relro,-z,now',
];
try {
  execFileSync(cc, [...flags, '-o', 'packages/cli/dist/mwan-front', 'packages/cli/front/mwan-front.c'], { stdio: 'inherit' });
} catch (error) {
  if (error.code === 'ENOENT') {
    console.error(`build-front: no C compiler (${cc}): install gcc and libc6-dev (scripts/setup.sh does, as root)`);
  } else {
    console.error(`build-front: ${cc} failed to compile packages/cli/front/mwan-front.c (exit ${error.status ?? error.signal})`);
  }
  process.exit(1);
}
