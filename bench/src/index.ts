export { BENCHMARKS, main, runBench, writeResults, type BenchmarkName, type BenchOptions, type BenchOutcome } from './main.js';
export type { Section, Target, Plot } from './report.js';
