import { ipv6Unit, isIpv6Address, type LinkModel } from '@mwan/core';
import type { FailoverLink } from './failover.js';

/**
 * The health units of a config's links. A link whose targets include IPv6 addresses and that
 * carries IPv6 is judged per family: its IPv4 targets judge the link (`isp1`), its IPv6 ones its
 * IPv6 side (`isp1:ipv6`), so an ISP whose IPv6 breaks loses only its IPv6 connections. Any
 * other link is one unit for both families.
 */
export function failoverLinks(links: readonly LinkModel[]): FailoverLink[] {
  return links.flatMap((link): FailoverLink[] => {
    const base: FailoverLink = { name: link.name, interface: link.interface, mark: link.mark, priority: link.priority, health: link.health };
    if (!link.ipv6) return [base];
    const six = link.health.targets.filter(isIpv6Address);
    if (!six.length) return [{ ...base, ipv6: true }];
    const four = link.health.targets.filter((t) => !isIpv6Address(t));
    return [
      { ...base, ipv6: true, family: 'ipv4', health: { ...link.health, targets: four, enabled: link.health.enabled && four.length > 0 } },
      { ...base, name: ipv6Unit(link.name), family: 'ipv6', health: { ...link.health, targets: six } },
    ];
  });
}
