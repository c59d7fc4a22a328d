#!/usr/bin/env node
// @ts-check
// Bounded load: a new TCP connection per request, for a fixed time or a fixed number of requests.
//   node load.js --dst ADDR --port P (--duration MS | --count N) [--src ADDR[,ADDR...]]
//                [--concurrency C] [--stall MS] [--timeout MS] [--mode line|http] [--path /] [--at EPOCH_MS]
// --at: start at that wall-clock time (ms since the epoch), so another process can time things
// against the load's seconds.
// A request is completed when the whole answer arrived (line mode: the server's line and close;
// http mode: a response starting with "HTTP/1." and close), failed on error or timeout, and
// stalled when it took longer than --stall (1000 ms) whatever its outcome.
// stdout: one JSON report { started, completed, failed, stalled, errors, latencyMs, perSecond, elapsedMs, begin }
// (perSecond: completions in each second from `begin`, the wall-clock ms since the epoch it started at).
import net from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    src: { type: 'string' },
    dst: { type: 'string' },
    port: { type: 'string', default: '7000' },
    duration: { type: 'string' },
    count: { type: 'string' },
    concurrency: { type: 'string', default: '8' },
    stall: { type: 'string', default: '1000' },
    timeout: { type: 'string', default: '5000' },
    mode: { type: 'string', default: 'line' },
    path: { type: 'string', default: '/' },
    at: { type: 'string' },
  },
});
const sources = (values.src ?? '').split(',').filter(Boolean);
const port = Number(values.port);
const duration = values.duration !== undefined ? Number(values.duration) : undefined;
const count = values.count !== undefined ? Number(values.count) : undefined;
const concurrency = Math.max(1, Number(values.concurrency));
const stallMs = Number(values.stall);
const timeout = Number(values.timeout);
if (!values.dst || (duration === undefined) === (count === undefined) || !['line', 'http'].includes(values.mode ?? '')) {
  process.stderr.write('usage: load.js --dst ADDR --port P (--duration MS | --count N) [--src ADDR,...] [--mode line|http]\n');
  process.exit(2);
}
const dst = values.dst;
const request = values.mode === 'http' ? `GET ${values.path} HTTP/1.0\r\nHost: ${dst}\r\n\r\n` : undefined;

const report = { started: 0, completed: 0, failed: 0, stalled: 0, errors: /** @type {Record<string, number>} */ ({}) };
const latencies = [];
const perSecond = [];
if (values.at !== undefined) await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(values.at) - Date.now())));
const begin = Date.now();

/** @param {number} i @returns {Promise<void>} */
function one(i) {
  return new Promise((resolve) => {
    const started = Date.now();
    const src = sources.length ? sources[i % sources.length] : undefined;
    const socket = net.connect({ host: dst, port, ...(src ? { localAddress: src } : {}) });
    let data = '';
    let done = false;
    const finish = (/** @type {string | undefined} */ error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const ms = Date.now() - started;
      if (ms > stallMs) report.stalled++;
      if (error === undefined) {
        report.completed++;
        latencies.push(ms);
        const second = Math.floor((Date.now() - begin) / 1000);
        perSecond[second] = (perSecond[second] ?? 0) + 1;
      } else {
        report.failed++;
        report.errors[error] = (report.errors[error] ?? 0) + 1;
      }
      resolve();
    };
    const timer = setTimeout(() => finish('timeout'), timeout);
    socket.on('connect', () => {
      if (request) socket.write(request);
    });
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
    });
    socket.on('error', (error) => finish(/** @type {any} */ (error).code ?? error.message));
    socket.on('end', () => {
      const good = request ? data.startsWith('HTTP/1.') : data.endsWith('\n');
      finish(good ? undefined : 'bad answer');
    });
  });
}

const more = () => (count !== undefined ? report.started < count : Date.now() - begin < /** @type {number} */ (duration));
async function worker() {
  while (more()) await one(report.started++);
}
await Promise.all(Array.from({ length: concurrency }, worker));
latencies.sort((a, b) => a - b);
const pick = (/** @type {number} */ q) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] : null);
const elapsedMs = Date.now() - begin;
const seconds = Math.ceil(elapsedMs / 1000);
process.stdout.write(
  `${JSON.stringify({
    ...report,
    elapsedMs,
    begin,
    latencyMs: { p50: pick(0.5), p90: pick(0.9), p99: pick(0.99), max: latencies.length ? latencies[latencies.length - 1] : null },
    perSecond: Array.from({ length: seconds }, (_, s) => perSecond[s] ?? 0),
  })}\n`,
);
