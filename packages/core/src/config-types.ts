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

/** The IPv6 side of a link. */
export interface LinkIpv6Config {
  /** An IPv6 address (global or link-local), `auto` (the RA/DHCPv6 default route), or absent (`default dev IF`). */
  gateway?: string;
  /** `masquerade` (default), `none`, an IPv6 address, or a prefix: NPTv6 of `lan6`. */
  snat?: string;
  /** Prefixes the ISP routes to the router (a DMZ): always this link, untranslated, never balanced. */
  routed?: string[];
}

export interface LinkConfig {
  name: string;
  interface: string;
  gateway?: string;
  weight?: number;
  snat?: string;
  ipv6?: LinkIpv6Config;
  mark?: number;
  table?: number;
  priority?: number;
  health?: HealthConfig;
}

export interface StrategyConfig {
  name: string;
  options?: Record<string, unknown>;
}

/** A port (1..65535) or a range `"LOW-HIGH"`. */
export type PortValue = number | string;

/** What a new connection must have for a rule to decide; every field given must hold. */
export interface RuleMatch {
  /** IPv4 addresses or networks (`a.b.c.d/n`). */
  source?: string | string[];
  destination?: string | string[];
  /** Protocol names (`tcp`, `udp`, `icmp` …) or numbers. */
  protocol?: string | number | (string | number)[];
  /** Destination ports. */
  port?: PortValue | PortValue[];
  sourcePort?: PortValue | PortValue[];
  /** LAN interfaces the connection arrives on. */
  lan?: string | string[];
}

/** A policy rule: see `rules` in the schema and docs/rules.md. */
export interface RuleConfig {
  name: string;
  match: RuleMatch;
  /** Balance over these links only. */
  links?: string[];
  /** None of `links` healthy: the other healthy links (`any`, default) or refuse the connection (`none`). */
  fallback?: 'any' | 'none';
  /** Not balanced: the main table routes it (still NATed by the link it leaves). */
  exclude?: boolean;
  strategy?: string | StrategyConfig;
  /** Seconds a source address keeps the link of its last matching connection. */
  sticky?: number;
}

/** What new connections of the router itself do: see `routerTraffic` in the schema. */
export type RouterTraffic = 'failover' | 'balance' | 'off';

export interface Config {
  lan: string[];
  /** The LAN's IPv6 prefix: what an NPTv6 link translates. */
  lan6?: string;
  links: LinkConfig[];
  strategy?: string | StrategyConfig;
  health?: HealthConfig;
  /** The bits of the packet mark and ct mark mwan reads and writes. */
  markMask?: number;
  /** New connections arriving on a link keep that link for their replies (default true). */
  inbound?: boolean;
  routerTraffic?: RouterTraffic;
  /** Policy rules, in order: the first that matches a new connection decides. */
  rules?: RuleConfig[];
}
