import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** The repository root: bench/src (tests) and bench/dist (built) both sit two levels below it. */
export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const BENCH_DIR = join(REPO, 'bench');
/** The article's script, kept next to the repository (`<repo>/../shared`). */
export const SEED_SCRIPT = join(REPO, '..', 'shared', 'reference', 'seed-baseline.sh');
export const TOOLS = join(BENCH_DIR, 'tools');
