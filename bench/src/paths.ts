import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** The repository root: bench/src (tests) and bench/dist (built) both sit two levels below it. */
export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const BENCH_DIR = join(REPO, 'bench');
/** The bench's own script of the article's recipe: the baseline (see bench/README.md). */
export const SEED_SCRIPT_IN_REPO = 'bench/baseline/article-recipe.sh';
export const SEED_SCRIPT = join(REPO, SEED_SCRIPT_IN_REPO);
export const TOOLS = join(BENCH_DIR, 'tools');
