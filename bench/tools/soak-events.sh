#!/usr/bin/env bash
# Kernel events for the soak benchmark, run in the lab's router namespace while `mwan watch` runs:
# a steady stream of changes mwan does not own (a route in a table of its own, added and deleted:
# every one an event, none a drift), and every 40 rounds one change to what mwan owns, in turn:
# a link bounce (the kernel drops the link table's route), the link table's route deleted, its
# table deleted, one of its ip rules deleted, ip_forward reset.
#   soak-events.sh SECONDS INTERFACE TABLE
# stdout: one line of counts when done, or when stopped by SIGTERM (the soak has its rounds).
set -u
seconds=$1 interface=$2 table=$3
end=$((SECONDS + seconds))
rounds=0 bounces=0 routes=0 tables=0 rules=0 sysctls=0
counts() {
  echo "{\"unownedRouteChanges\":$((rounds * 2)),\"bounces\":$bounces,\"routesDeleted\":$routes,\"tablesDeleted\":$tables,\"rulesDeleted\":$rules,\"sysctlResets\":$sysctls}"
}
# The bounced link is left up whenever it stops.
trap 'ip link set "$interface" up; counts; exit 0' TERM
while [ "$SECONDS" -lt "$end" ]; do
  ip route add blackhole 198.18.0.0/24 table 4242
  ip route del blackhole 198.18.0.0/24 table 4242
  rounds=$((rounds + 1))
  case $((rounds % 200)) in
    0) ip link set "$interface" down; sleep 0.2; ip link set "$interface" up; bounces=$((bounces + 1)) ;;
    40) ip route del default table "$table" 2>/dev/null && routes=$((routes + 1)) ;;
    80) nft delete table inet mwan 2>/dev/null && tables=$((tables + 1)) ;;
    120) ip rule del pref 31001 2>/dev/null && rules=$((rules + 1)) ;;
    160) sysctl -qw net.ipv4.ip_forward=0 && sysctls=$((sysctls + 1)) ;;
  esac
  sleep 0.02
done
counts
