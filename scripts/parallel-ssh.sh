#!/bin/sh
# barrage on several machines with ssh and GNU parallel: one exact result.
#
#   scripts/parallel-ssh.sh URL gen1 gen2 gen3 [-- barrage options]
#
# Each host runs one shard (--shard I/N: its share of connections, rate and -n), all start
# measuring at the same instant (--start-at, 10 s from now: hosts need synchronised clocks,
# e.g. chrony), results come back over ssh and `barrage merge` adds them up exactly.
# Needs: barrage on every host and here, GNU parallel here, ssh access to the hosts.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 URL HOST... [-- barrage options]" >&2; exit 2; }
url=$1; shift
hosts=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do hosts="$hosts $1"; shift; done
[ "${1:-}" = "--" ] && shift
n=$(echo $hosts | wc -w)
start=$(date -u -d '+10 seconds' +%Y-%m-%dT%H:%M:%SZ)
out=$(mktemp -d)
# {#} is parallel's job number (1-based): shard index = {#} - 1
printf '%s\n' $hosts | parallel -j "$n" --tag \
  "ssh {} barrage --shard \$(( {#} - 1 ))/$n --start-at $start --json - $* '$url' > $out/shard-{#}.json"
barrage merge "$out"/shard-*.json > total.json
echo "merged $n shards into total.json (per-shard results in $out)" >&2
