export interface CounterValue {
  packets: number;
  bytes: number;
}

interface JsonCounter {
  counter?: { name: string; packets: number; bytes: number };
}

/** `nft -j list counters table inet mwan` → counter values by name. */
export function parseNftCounters(json: string): Record<string, CounterValue> {
  const parsed = JSON.parse(json) as { nftables?: JsonCounter[] };
  const counters: Record<string, CounterValue> = {};
  for (const item of parsed.nftables ?? []) {
    if (item.counter) counters[item.counter.name] = { packets: item.counter.packets, bytes: item.counter.bytes };
  }
  return counters;
}
