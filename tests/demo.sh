#!/bin/sh
# The demo: start the built-in target, run a 5-second benchmark against it.
cd "$(dirname "$0")/.." || exit 2
out=$(mktemp)
./barrage serve --listen 127.0.0.1:0 >"$out" 2>/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null; rm -f "$out"' EXIT INT TERM
for _ in $(seq 50); do grep -q listening "$out" && break; sleep 0.1; done
addr=$(sed -n 's/^listening on //p' "$out")
[ -n "$addr" ] || { echo "demo: barrage serve did not start"; exit 1; }
echo "\$ ./barrage -t 2 -c 50 -d 5s --latency http://$addr/"
./barrage -t 2 -c 50 -d 5s --latency "http://$addr/"
echo
echo "\$ ./barrage -t 2 -c 20 -d 5s -s scripts/login.lua http://$addr/    # a login workflow, per-step stats"
./barrage -t 2 -c 20 -d 5s -s scripts/login.lua "http://$addr/"
