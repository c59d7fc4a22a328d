/** The config file as the user writes it (after schema validation). */
export interface HealthConfig {
  enabled?: boolean;
  targets?: string[];
  method?: 'icmp' | 'tcp';
  port?: number;
  interval?: number;
  timeout?: number;
  down?: number;
  up?: number;
  maxRtt?: number;
  maxLoss?: number;
  flushConnections?: boolean;
  hook?: string;
}

export interface LinkConfig {
  name: string;
  interface: string;
  gateway?: string;
  weight?: number;
  snat?: string;
  mark?: number;
  table?: number;
  priority?: number;
  health?: HealthConfig;
}

export interface StrategyConfig {
  name: string;
  options?: Record<string, unknown>;
}

/** What new connections of the router itself do: see `routerTraffic` in the schema. */
export type RouterTraffic = 'failover' | 'balance' | 'off';

export interface Config {
  lan: string[];
  links: LinkConfig[];
  strategy?: string | StrategyConfig;
  health?: HealthConfig;
  /** The bits of the packet mark and ct mark mwan reads and writes. */
  markMask?: number;
  /** New connections arriving on a link keep that link for their replies (default true). */
  inbound?: boolean;
  routerTraffic?: RouterTraffic;
}
