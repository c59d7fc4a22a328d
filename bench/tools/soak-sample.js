// @ts-check
// Loaded into `mwan watch` by the soak benchmark (NODE_OPTIONS="--expose-gc --import <this file>",
// MWAN_SOAK_SAMPLES=<dir>): on each SIGUSR2 it collects the garbage, so the heap figure is what is
// still referenced, and writes one sample of the process to <dir>/<n>.json. Nothing of mwan's own
// code knows about it.
import { readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';

const dir = process.env.MWAN_SOAK_SAMPLES;

/** Fields of /proc/PID/stat from field 3 on (the command name may hold spaces and parentheses). */
function statFields(pid) {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return text.slice(text.lastIndexOf(')') + 2).trim().split(' ');
}
/** Field number `n` (1-based, as in proc(5)) of stat fields that start at field 3. */
const field = (fields, n) => Number(fields[n - 3]);

/**
 * The processes whose parent is this one, with the CPU they used so far (clock ticks); `steady`:
 * one of the event monitors that live as long as the daemon (`ip monitor`, `nft monitor`).
 */
function children() {
  const found = [];
  // libuv starts children from the main thread, whose task id is the pid.
  const pids = readFileSync(`/proc/self/task/${process.pid}/children`, 'utf8').trim().split(' ').filter(Boolean);
  for (const name of pids) {
    try {
      const fields = statFields(name);
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      found.push({ pid: Number(name), comm: argv[0] ?? '', steady: argv[1] === 'monitor', ticks: field(fields, 14) + field(fields, 15) });
    } catch {
      // It ended while we looked.
    }
  }
  return found;
}

/** How long a sample waits for a moment with no probe or command in flight (their pipes and handles come and go). */
const QUIET_WAIT_MS = 500;

let n = 0;
if (dir) {
  process.on('SIGUSR2', () => {
    const asked = performance.now();
    const attempt = () => {
      const quiet = children().every((c) => c.steady);
      if (!quiet && performance.now() - asked < QUIET_WAIT_MS) setTimeout(attempt, 1);
      else write(quiet, performance.now() - asked);
    };
    attempt();
  });
}

/** `quiet`: no child but the monitors was running (else the wait ran out). */
function write(quiet, waitedMs) {
  const heapBeforeGc = process.memoryUsage().heapUsed;
  globalThis.gc?.();
  const memory = process.memoryUsage();
  const self = statFields('self');
  /** @type {Record<string, number>} */
  const resources = {};
  for (const r of process.getActiveResourcesInfo()) resources[r] = (resources[r] ?? 0) + 1;
  const sample = {
    n,
    quiet,
    waitedMs,
    monotonicMs: performance.now(),
    rssBytes: memory.rss,
    heapUsedBytes: memory.heapUsed,
    heapBeforeGcBytes: heapBeforeGc,
    externalBytes: memory.external,
    // Used bytes by heap space: compiled code (code_space) grows for a while as V8 optimizes more functions.
    heapSpaces: Object.fromEntries(getHeapSpaceStatistics().map((space) => [space.space_name, space.space_used_size])),
    // Less the one descriptor that reading the directory opens.
    openFds: readdirSync('/proc/self/fd').length - 1,
    resources,
    ticks: { user: field(self, 14), system: field(self, 15), childrenUser: field(self, 16), childrenSystem: field(self, 17) },
    children: children(),
  };
  const path = join(dir, `${n}.json`);
  // For finding what grows (MWAN_SOAK_SNAPSHOTS=DIR): compare two in Chrome DevTools' Memory tab.
  const snapshots = process.env.MWAN_SOAK_SNAPSHOTS;
  if (snapshots) writeHeapSnapshot(join(snapshots, `${basename(dir)}-${n}.heapsnapshot`));
  writeFileSync(`${path}.tmp`, JSON.stringify(sample));
  renameSync(`${path}.tmp`, path);
  n++;
}
