export { Lab, type ConnectOptions, type LabOptions, type LoadOptions, type MwanResult, type ServerOptions } from './lab.js';
export { configFor, type ConfigOptions, type SnatChoice } from './config-for.js';
export { parseConntrack, type ConntrackEntry, type Tuple } from './conntrack.js';
export { parseNftCounters, type CounterValue } from './nft-counters.js';
export { chiSquare, CHI2_DF1_P001, tally } from './stats.js';
export { namespacesStartingWith, sweepStaleLabs } from './cleanup.js';
export { DEFAULT_PREFIX, labStem, namespaceName, parseLabName, type LabId, type Role } from './names.js';
export { listNamespaces, parseNetnsList } from './netns.js';
export { findMwanCli, mwanCommand } from './mwan-cli.js';
export {
  buildSteps, DMZ6_HOST, DMZ6_PREFIX, GATEWAY6_LINK_LOCAL, LAN_HOST, LAN2_HOST, LAN6_HOST, LAN6_PREFIX, MAX_LINKS, planTopology, ROUTER_LAN, ROUTER_LAN2,
  ROUTER_LAN6, SERVER6_PREFIX, tbfArgs,
  type BuildStep, type LabLink, type NamespaceNames, type Shaping, type Topology, type TopologyOptions,
} from './topology.js';
export { LongLivedConnection, TOOLS_DIR, TrafficServer, type ConnectResult, type LoadReport, type Seen } from './traffic.js';
