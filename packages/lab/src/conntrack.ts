export interface Tuple {
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
}

/** One line of `conntrack -L -o extended`. */
export interface ConntrackEntry {
  proto: string;
  /** TCP state (ESTABLISHED, TIME_WAIT, ...); absent for UDP. */
  state?: string;
  original: Tuple;
  reply: Tuple;
  mark: number;
  flags: string[];
}

/**
 * `ipv4 2 tcp 6 117 TIME_WAIT src=A dst=B sport=1 dport=2 src=B dst=C sport=2 dport=1 [ASSURED] mark=1 use=1`:
 * the first src/dst/sport/dport group is the original direction, the second the reply.
 */
export function parseConntrack(text: string): ConntrackEntry[] {
  const entries: ConntrackEntry[] = [];
  for (const line of text.split('\n')) {
    const tokens = line.trim().split(/\s+/);
    if (tokens.length < 6 || !/^ipv[46]$/.test(tokens[0])) continue;
    const tuples: Partial<Tuple>[] = [{}, {}];
    let group = 0;
    let mark = 0;
    let state: string | undefined;
    const flags: string[] = [];
    for (const token of tokens.slice(5)) {
      const eq = token.indexOf('=');
      if (eq < 0) {
        if (token.startsWith('[')) flags.push(token.slice(1, -1));
        else if (/^[A-Z_]+$/.test(token)) state = token;
        continue;
      }
      const key = token.slice(0, eq);
      const value = token.slice(eq + 1);
      if (key === 'src' && tuples[group].src !== undefined) group = 1;
      if (key === 'src' || key === 'dst') tuples[group][key] = value;
      else if (key === 'sport' || key === 'dport') tuples[group][key] = Number(value);
      else if (key === 'mark') mark = Number(value);
    }
    entries.push({
      proto: tokens[2],
      ...(state !== undefined ? { state } : {}),
      original: tuples[0] as Tuple,
      reply: tuples[1] as Tuple,
      mark,
      flags,
    });
  }
  return entries;
}
