#!/usr/bin/env node
// @ts-check
// Open-loop load: starts a new TCP connection (HTTP/1.0 GET) every --every ms for --duration ms,
// whether or not earlier ones finished, so connections keep arriving while a link is dead (a
// closed loop would stall on the first requests sent into the dead link).
//   node pace.js --dst ADDR --port P --every MS --duration MS [--timeout MS] [--path /]
// stdout: one JSON line { started, completed, failed } when the last request ended or timed out.
import net from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    dst: { type: 'string' },
    port: { type: 'string', default: '80' },
    every: { type: 'string', default: '5' },
    duration: { type: 'string' },
    timeout: { type: 'string', default: '3000' },
    path: { type: 'string', default: '/' },
  },
});
if (!values.dst || !values.duration) {
  process.stderr.write('usage: pace.js --dst ADDR --port P --every MS --duration MS [--timeout MS] [--path /]\n');
  process.exit(2);
}
const dst = values.dst;
const port = Number(values.port);
const every = Number(values.every);
const duration = Number(values.duration);
const timeout = Number(values.timeout);
const request = `GET ${values.path} HTTP/1.0\r\nHost: ${dst}\r\n\r\n`;
const report = { started: 0, completed: 0, failed: 0 };
const pending = new Set();

function one() {
  report.started++;
  const socket = net.connect({ host: dst, port });
  let ok = false;
  const done = (/** @type {boolean} */ good) => {
    if (!pending.has(socket)) return;
    pending.delete(socket);
    clearTimeout(timer);
    socket.destroy();
    if (good) report.completed++;
    else report.failed++;
    if (pending.size === 0 && stopped) finish();
  };
  const timer = setTimeout(() => done(false), timeout);
  pending.add(socket);
  socket.on('connect', () => socket.write(request));
  socket.on('data', (chunk) => {
    if (chunk.toString('latin1').startsWith('HTTP/1.')) ok = true;
  });
  socket.on('error', () => done(false));
  socket.on('close', () => done(ok));
}

let stopped = false;
const finish = () => process.stdout.write(`${JSON.stringify(report)}\n`);
const interval = setInterval(one, every);
setTimeout(() => {
  clearInterval(interval);
  stopped = true;
  if (pending.size === 0) finish();
}, duration);
