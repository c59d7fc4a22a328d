export * from './constants.js';
export * from './errors.js';
export type { Config, HealthConfig, LinkConfig, LinkIpv6Config, PortValue, RouterTraffic, RuleConfig, RuleMatch, StrategyConfig } from './config-types.js';
export {
  activeLinks, HEALTH_DEFAULTS, IPV6_UNIT_SUFFIX, ipv6Unit, LOSS_WINDOW, resolveHealth, splitActive, type HealthModel, type LinkState,
} from './health.js';
export { loadConfigFile, parseConfig, validateConfig } from './load-config.js';
export { readJson, writeJsonAtomic } from './json-file.js';
export { verifyConfig } from './verify-config.js';
export { allocateMarks, buildModel, fitsMask, DEFAULT_STRATEGY, type LinkIpv6Model, type LinkModel, type Model, type ModelOptions, type Snat, type Snat6 } from './model.js';
export { apportion, bucketTotal, hashBuckets, MIN_BUCKETS, type BucketInterval, type BucketLink } from './hash-buckets.js';
export { reduceWeights, smoothIntervals, weightIntervals, type Interval } from './weights.js';
export {
  createSelectorBuilder, familyField, hex, HASH_FIELDS, isBuiltSelector, MAX_MODULUS, pickChain, selectorVerdict,
  type Family, type HashField, type KeyExpr, type MapEntry, type Selector, type SelectorBuilder, type StrategyLink,
} from './nft-builder.js';
export {
  defineStrategy, isStrategy, runStrategy, strategyOptions,
  type Strategy, type StrategyContext, type StrategyDefinition, type StrategyMeta,
} from './strategy.js';
export { compileSchema, loadSchema, validateWith } from './schemas.js';
export { counterName, renderNft, type RenderNftOptions } from './render-nft.js';
export {
  renderRoutes, renderRules, renderSysctls, routeArgs, ruleArgs, RP_FILTER_ALL, sysctlName,
  type RouteSpec, type RuleSpec, type SysctlSpec,
} from './render-ip.js';
export { render, renderIpCommands, strategyLinks, type Rendered, type RenderOptions, type RuleState } from './render.js';
export {
  cidrSpan, elementCount, fieldsOf, groupRules, ipv4Text, ipv4Value, MATCH_FIELDS, MATCH_KEYS, MAX_RULE_ELEMENTS, mergeSpans,
  PORT_PROTOCOLS, PROTOCOL_NUMBERS, ruleElements, ruleModels, rulesOverlap, spansIntersect, verifyRules,
  type MatchField, type RuleGroup, type RuleModel, type Span,
} from './rules.js';
export {
  ruleChain, ruleChains, ruleCounter, ruleDispatch, ruleLinks, STICKY_SET_PREFIX, stickySet, stickySets,
  type RuleChains, type RuleKind, type RulePlan, type StickySet,
} from './render-rules.js';
export {
  ipv6Condition, LINK_DOWN_REASONS, linkCondition, needsOf, usableLinks,
  type DownLink, type InterfaceFacts, type LinkCondition, type LinkDownReason, type LinkNeeds,
} from './link-condition.js';
export {
  hasHostBits, inIpv6Prefix, ipv6PrefixesOverlap, isIpv4Address, isIpv6Address, isLinkLocal, LINK_LOCAL_PREFIX, parseIpv6Prefix, type Ipv6Prefix,
} from './ipv6.js';
