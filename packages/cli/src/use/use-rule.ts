import { hex } from '@mwan/core';

export interface UseRuleInput {
  cgroup: { path: string; level: number };
  mark: number;
  /** The bits of the mark that are mwan's. */
  mask: number;
  link: string;
  pid: number;
}

export const useComment = (pid: number, link: string) => `mwan: use ${pid} link ${link}`;

/**
 * The rule `mwan use` puts at the top of a route-type output chain of `inet mwan`: every packet of
 * a socket of the command's cgroup gets the link's mark (in mwan's bits only), the route hook then
 * routes it again through the link's table, and the ct mark makes it the link's connection (for
 * restore, conntrack cleanup and status).
 */
export function useRule(input: UseRuleInput): string[] {
  const set = (what: 'meta' | 'ct') => (input.mask === 0xffffffff
    ? [what, 'mark', 'set', hex(input.mark)]
    : [what, 'mark', 'set', what, 'mark', '&', hex((~input.mask) >>> 0), '|', hex(input.mark)]);
  return [
    'socket', 'cgroupv2', 'level', String(input.cgroup.level), `"${input.cgroup.path}"`,
    ...set('meta'), ...set('ct'),
    'comment', `"${useComment(input.pid, input.link)}"`,
  ];
}

/** A chain of its own, for a ruleset without an output chain. */
export const useChain = (pid: number) => `use_${pid}`;
export const USE_CHAIN_SPEC = ['{', 'type', 'route', 'hook', 'output', 'priority', 'mangle;', 'policy', 'accept;', '}'];
