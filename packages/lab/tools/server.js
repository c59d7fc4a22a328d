#!/usr/bin/env node
// @ts-check
// Traffic server of the lab: tells every client which source address and port it saw.
//   node server.js --bind ADDR[,ADDR...] [--port P] [--quiet]
// TCP on P: writes one JSON line and closes (the server closes first, so clients that open a new
// connection per request leave no TIME_WAIT behind and never run out of source ports).
// TCP on P+1: long-lived; writes one JSON line on connect and one per line received.
// UDP on P: answers each datagram with one JSON line. Sockets are bound per address because a
// socket bound to 0.0.0.0 would answer UDP from the outgoing interface's address, which neither
// conntrack nor the client would match.
// stdout: {"ready":true,...} once listening, then one record per connection/datagram unless --quiet.
import dgram from 'node:dgram';
import net from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    bind: { type: 'string' },
    port: { type: 'string', default: '7000' },
    quiet: { type: 'boolean', default: false },
  },
});
const addresses = (values.bind ?? '').split(',').filter(Boolean);
const port = Number(values.port);
if (!addresses.length || !Number.isInteger(port) || port < 1 || port > 65534) {
  process.stderr.write('usage: server.js --bind ADDR[,ADDR...] [--port P] [--quiet]\n');
  process.exit(2);
}

/** @param {object} record */
const emit = (record) => {
  if (!values.quiet) process.stdout.write(`${JSON.stringify(record)}\n`);
};

/** @param {net.Socket} socket @param {string} kind */
const seenOf = (socket, kind) => ({
  kind,
  src: (socket.remoteAddress ?? '').replace(/^::ffff:/, ''),
  sport: socket.remotePort,
  dst: (socket.localAddress ?? '').replace(/^::ffff:/, ''),
  dport: socket.localPort,
});

/** @param {net.Server | dgram.Socket} server @param {() => void} listen */
const listening = (server, listen) =>
  new Promise((resolve, reject) => {
    server.once('error', reject);
    server.once('listening', () => resolve(undefined));
    listen();
  });

const waits = [];
for (const address of addresses) {
  const once = net.createServer((socket) => {
    socket.on('error', () => {});
    const seen = seenOf(socket, 'tcp');
    emit(seen);
    socket.end(`${JSON.stringify(seen)}\n`);
  });
  waits.push(listening(once, () => once.listen({ host: address, port, backlog: 4096 })));

  const hold = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.setNoDelay(true);
    const seen = seenOf(socket, 'hold');
    emit(seen);
    socket.write(`${JSON.stringify(seen)}\n`);
    let buffered = '';
    socket.on('data', (chunk) => {
      buffered += chunk.toString();
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        buffered = buffered.slice(nl + 1);
        socket.write(`${JSON.stringify({ ...seenOf(socket, 'hold'), at: Date.now() })}\n`);
      }
    });
  });
  waits.push(listening(hold, () => hold.listen({ host: address, port: port + 1, backlog: 128 })));

  const udp = dgram.createSocket(net.isIPv6(address) ? 'udp6' : 'udp4');
  udp.on('message', (_message, rinfo) => {
    const seen = { kind: 'udp', src: rinfo.address, sport: rinfo.port, dst: address, dport: port };
    emit(seen);
    udp.send(`${JSON.stringify(seen)}\n`, rinfo.port, rinfo.address);
  });
  waits.push(listening(udp, () => udp.bind(port, address)));
}

Promise.all(waits).then(
  () => process.stdout.write(`${JSON.stringify({ ready: true, addresses, port })}\n`),
  (error) => {
    process.stderr.write(`server: cannot listen: ${error.message}\n`);
    process.exit(1);
  },
);
for (const signal of /** @type {const} */ (['SIGTERM', 'SIGINT'])) process.on(signal, () => process.exit(0));
