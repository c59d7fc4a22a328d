#!/usr/bin/env node
// @ts-check
// Opens N TCP connections or N UDP flows (each from a new source port) and reports what the
// server saw for each.
//   node client.js --proto tcp|udp --src ADDR[,ADDR...] --dst ADDR --port P --count N
//                  [--concurrency C] [--timeout MS] [--first-port N]
// Several --src addresses are used in turn (connection i from src[i % n]).
// Source ports are chosen here, consecutively from --first-port (default random), skipping ports
// in use: the kernel would hand out a port again as soon as its socket closed (the server closes
// first, so the client keeps no TIME_WAIT), and a reused 4-tuple is the same conntrack entry.
// stdout: one JSON object { results: [{ ok, src, local, seen?, error?, ms }] } in request order.
import dgram from 'node:dgram';
import net from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    proto: { type: 'string', default: 'tcp' },
    src: { type: 'string' },
    dst: { type: 'string' },
    port: { type: 'string', default: '7000' },
    count: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '16' },
    timeout: { type: 'string', default: '3000' },
    'first-port': { type: 'string' },
  },
});
const sources = (values.src ?? '').split(',').filter(Boolean);
const port = Number(values.port);
const count = Number(values.count);
const concurrency = Math.max(1, Number(values.concurrency));
const timeout = Number(values.timeout);
if (!sources.length || !values.dst || !['tcp', 'udp'].includes(values.proto ?? '') || !(count >= 0)) {
  process.stderr.write('usage: client.js --proto tcp|udp --src ADDR[,ADDR...] --dst ADDR --port P --count N\n');
  process.exit(2);
}
const dst = values.dst;

const PORT_MIN = 10000;
const PORT_MAX = 64999;
let cursor = values['first-port'] !== undefined ? Number(values['first-port']) : PORT_MIN + Math.floor(Math.random() * (PORT_MAX - PORT_MIN));
const nextPort = () => {
  if (cursor > PORT_MAX || cursor < PORT_MIN) cursor = PORT_MIN;
  return cursor++;
};
const ATTEMPTS = 20;

/** @param {string} src @returns {Promise<object>} */
async function tcp(src) {
  for (let attempt = 1; ; attempt++) {
    const result = await tcpFrom(src, nextPort());
    if (result.error !== 'EADDRINUSE' || attempt === ATTEMPTS) return result;
  }
}

/** @param {string} src @param {number} localPort @returns {Promise<any>} */
function tcpFrom(src, localPort) {
  return new Promise((resolve) => {
    const started = Date.now();
    let data = '';
    let local;
    const socket = net.connect({ host: dst, port, localAddress: src, localPort });
    const finish = (/** @type {object} */ result) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ src, local, ms: Date.now() - started, ...result });
    };
    const timer = setTimeout(() => finish({ ok: false, error: 'timeout' }), timeout);
    socket.on('connect', () => {
      local = { address: socket.localAddress, port: socket.localPort };
    });
    socket.on('data', (chunk) => {
      data += chunk.toString();
    });
    socket.on('error', (error) => finish({ ok: false, error: /** @type {any} */ (error).code ?? error.message }));
    socket.on('end', () => {
      try {
        finish({ ok: true, seen: JSON.parse(data.split('\n')[0]) });
      } catch {
        finish({ ok: false, error: `bad answer ${JSON.stringify(data)}` });
      }
    });
  });
}

/** One flow: a fresh socket (new source port); the datagram is resent, same port, until answered. */
async function udp(/** @type {string} */ src) {
  for (let attempt = 1; ; attempt++) {
    const result = await udpFrom(src, nextPort());
    if (result.error !== 'EADDRINUSE' || attempt === ATTEMPTS) return result;
  }
}

/** @param {string} src @param {number} localPort @returns {Promise<any>} */
function udpFrom(src, localPort) {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = dgram.createSocket(net.isIPv6(dst) ? 'udp6' : 'udp4');
    let local;
    let resend;
    const finish = (/** @type {object} */ result) => {
      clearTimeout(timer);
      clearInterval(resend);
      try {
        socket.close();
      } catch {
        // Never bound (the port was taken): nothing to close.
      }
      resolve({ src, local, ms: Date.now() - started, ...result });
    };
    const timer = setTimeout(() => finish({ ok: false, error: 'timeout' }), timeout);
    socket.on('error', (error) => finish({ ok: false, error: /** @type {any} */ (error).code ?? error.message }));
    socket.on('message', (message) => {
      try {
        finish({ ok: true, seen: JSON.parse(message.toString().split('\n')[0]) });
      } catch {
        finish({ ok: false, error: `bad answer ${JSON.stringify(message.toString())}` });
      }
    });
    socket.bind({ address: src, port: localPort, exclusive: true }, () => {
      const address = socket.address();
      local = { address: address.address, port: address.port };
      const send = () => socket.send('ping\n', port, dst);
      send();
      resend = setInterval(send, Math.max(200, Math.floor(timeout / 4)));
    });
  });
}

const run = values.proto === 'tcp' ? tcp : udp;
const results = new Array(count);
let next = 0;
async function worker() {
  while (next < count) {
    const i = next++;
    results[i] = await run(sources[i % sources.length]);
  }
}
await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
process.stdout.write(`${JSON.stringify({ results })}\n`);
