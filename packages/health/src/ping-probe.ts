/**
 * One `ping` per link and target, kept running, one echo every `interval`: bound to the link's
 * interface and carrying its mark. The mark makes the router's own `fwmark M lookup T` rule send
 * the echoes through the link's table (whatever the main table's default route is), and binding
 * to the device keeps them off every other link.
 *
 * `-O` prints `no answer yet for icmp_seq=N` when the next echo leaves without an answer to the
 * last, so every echo gets a line. `-U` takes both ends of the round-trip time from ping's own
 * clock: otherwise the reply's end is the kernel's packet timestamp, which a faked wall clock
 * (libfaketime in the wall-clock test) does not move, and every time would be off by the fake offset.
 */
export function pingArgs(iface: string, mark: number, target: string, intervalSeconds: number): string[] {
  return ['-n', '-U', '-O', '-i', seconds(intervalSeconds), '-I', iface, '-m', String(mark), target];
}

/** ping accepts fractional seconds; a fixed format keeps `1e-2` and the like out of its way. */
export function seconds(value: number): string {
  return String(Number(value.toFixed(3)));
}

/** `ping: sendmsg: No buffer space available` → `sendmsg: No buffer space available`. */
export function shorten(message: string): string {
  return message.trim().replace(/^ping: /, '').replace(/^From \S+ icmp_seq=\d+ /, '').slice(0, 120);
}
