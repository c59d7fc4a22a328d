#!/usr/bin/env bash
# The baseline every benchmark compares mwan with: the 2010 article's iptables recipe for
# connection-level load balancing (CONNMARK save/restore, `statistic --mode nth`, one SNAT per
# link, fwmark rules into tables 251/252), in the bench lab's names:
#   LAN interface eth0; links wan1 and wan2, next hops 10.37.N.1, router addresses 10.37.N.253.
# A next hop is named because the lab's upstream ends do not answer ARP for every address (the
# article's `default dev ethN` relies on modems that do). Everything else is the recipe as
# written, its weaknesses included: it flushes and deletes every chain of the filter, nat and
# mangle tables, balances only TCP, and marks NEW connections whatever interface they arrive on.
#
# Run it as root inside the lab router's namespace, never on a real host:
#   ip netns exec <router-ns> env IPT=iptables-legacy bench/baseline/article-recipe.sh
# IPT picks the iptables flavour: iptables-legacy (default) or iptables (nf_tables backend).
IPT=${IPT:-iptables-legacy}

echo 1 >| /proc/sys/net/ipv4/ip_forward
echo 0 >| /proc/sys/net/ipv4/conf/all/rp_filter

for table in filter nat mangle; do
  $IPT -t "$table" -F
  $IPT -t "$table" -X
done
for chain in INPUT OUTPUT FORWARD; do
  $IPT -t filter -P "$chain" ACCEPT
done

# One chain per link: mark the packet, then copy the mark into conntrack.
for n in 1 2; do
  $IPT -t mangle -N "CONNMARK$n"
  $IPT -t mangle -A "CONNMARK$n" -j MARK --set-mark "$n"
  $IPT -t mangle -A "CONNMARK$n" -j CONNMARK --save-mark
done
$IPT -t mangle -N RESTOREMARK
$IPT -t mangle -A RESTOREMARK -j CONNMARK --restore-mark

for n in 1 2; do
  $IPT -t nat -N "SNAT$n"
  $IPT -t nat -A "SNAT$n" -j SNAT --to-source "10.37.$n.253"
done

# Later packets of a LAN connection get its mark back; new TCP connections alternate links.
$IPT -t mangle -A PREROUTING -i eth0 -p tcp -m state --state ESTABLISHED,RELATED -j RESTOREMARK
$IPT -t mangle -A PREROUTING -p tcp -m state --state NEW -m statistic --mode nth --every 2 --packet 0 -j CONNMARK1
$IPT -t mangle -A PREROUTING -p tcp -m state --state NEW -m statistic --mode nth --every 2 --packet 1 -j CONNMARK2

for n in 1 2; do
  $IPT -t nat -A POSTROUTING -o "wan$n" -j "SNAT$n"
done

# One routing table per link with its default route, and a fwmark rule into it.
for n in 1 2; do
  table=$((250 + n))
  ip route flush table "$table" 2>/dev/null
  ip route add table "$table" default via "10.37.$n.1" dev "wan$n"
done
for n in 1 2; do
  ip rule del from all fwmark "0x$n" 2>/dev/null
done
for n in 1 2; do
  ip rule add fwmark "$n" table "$((250 + n))"
done
ip route flush cache 2>/dev/null
true
