#!/usr/bin/env node
// @ts-check
// A long-lived TCP connection to the server's hold port (P+1), driven through stdin.
//   node hold.js --src ADDR --dst ADDR --port P
// stdout: {"open":SEEN} once connected; for each "ping" line on stdin, {"reply":SEEN} or
// {"error":...}; {"closed":true} when the connection ends. EOF on stdin closes the connection.
import net from 'node:net';
import readline from 'node:readline';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { src: { type: 'string' }, dst: { type: 'string' }, port: { type: 'string', default: '7001' } },
});
const out = (/** @type {object} */ record) => process.stdout.write(`${JSON.stringify(record)}\n`);

const socket = net.connect({ host: values.dst, port: Number(values.port), localAddress: values.src });
socket.setNoDelay(true);
socket.setKeepAlive(false);
let opened = false;
let buffered = '';
socket.on('data', (chunk) => {
  buffered += chunk.toString();
  let nl;
  while ((nl = buffered.indexOf('\n')) >= 0) {
    const line = buffered.slice(0, nl);
    buffered = buffered.slice(nl + 1);
    const seen = JSON.parse(line);
    out(opened ? { reply: seen, local: { address: socket.localAddress, port: socket.localPort } } : { open: seen, local: { address: socket.localAddress, port: socket.localPort } });
    opened = true;
  }
});
socket.on('error', (error) => out({ error: /** @type {any} */ (error).code ?? error.message }));
socket.on('close', () => {
  out({ closed: true });
  process.exit(0);
});

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === 'ping') socket.write('ping\n');
}).on('close', () => socket.end());
