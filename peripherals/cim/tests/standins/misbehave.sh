#!/bin/sh
# Misbehaving stand-in simulator for the exec backend's tests. Usage: misbehave.sh MODE [ARG]
case "$1" in
  sleep)   sleep "${2:-30}" ;;
  exit)    echo "simulated failure on stderr" >&2; exit "$2" ;;
  garbage) echo "this is not JSON {{{" ;;
  short)   echo '{"outputs": [1, 2], "metrics": {"latency_ns": 5}}' ;;
  signal)  kill -SEGV $$ ;;
  bgchild) # leaves a background child in the group, records its pid in $2, then answers
           sleep 30 & echo $! > "$2"; echo '{"outputs": [], "metrics": {"latency_ns": 5}}' ;;
  hang_bg) # the child hangs and its own child too: the timeout must kill both
           sleep 30 & echo $! > "$2"; sleep 30 ;;
  flood)   yes 1, ;;
  ppa)     echo '{"metrics": {"latency_ns": 42, "energy_pj": 1.5}}' ;;
  litter)  mkdir -p sub/ro && touch sub/ro/f && chmod 500 sub/ro && echo '{"outputs": []}' ;;
  *)       echo "unknown mode $1" >&2; exit 64 ;;
esac
