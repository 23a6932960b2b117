#!/usr/bin/env bash
# Records the SIPp captures of this folder on the loopback interface (needs root or
# CAP_NET_RAW for tcpdump, and the Debian packages sip-tester and tcpdump).
# Not run by the tests: the captures are committed; this says how they were made.
#   basic:    built-in uac/uas scenarios (INVITE 180 200 ACK, BYE 200), 3 calls
#   register: reg_uac.xml/reg_uas.xml (REGISTER 401 REGISTER 200, deregistration 200), 3 users
#   busy:     busy_uac.xml/busy_uas.xml (INVITE 100 486 ACK), 3 calls
#   cancel:   cancel_uac.xml/cancel_uas.xml (INVITE 100 180 CANCEL 200 487 ACK), 3 calls
#   lossy:    built-in uac/uas with 20 % simulated loss on both sides (-lost 20), 6 calls
set -euo pipefail
cd "$(dirname "$0")"
UAS_PORT=15060
UAC_PORT=15062

record() {  # name uas-args uac-args calls
  local name=$1 uas=$2 uac=$3 calls=$4
  tcpdump -i lo -U -s 0 -w "$name.pcap" "udp and (port $UAS_PORT or port $UAC_PORT)" 2>/dev/null &
  local dump=$!
  sleep 1
  # shellcheck disable=SC2086
  sipp $uas -i 127.0.0.1 -p $UAS_PORT -m "$calls" -nostdin -timeout 60s >/dev/null 2>&1 &
  local server=$!
  sleep 0.5
  # shellcheck disable=SC2086
  sipp 127.0.0.1:$UAS_PORT $uac -i 127.0.0.1 -p $UAC_PORT -m "$calls" -r 2 -nostdin \
    -timeout 60s >/dev/null 2>&1 || true
  wait "$server" || true
  sleep 1
  kill "$dump"
  wait "$dump" 2>/dev/null || true
}

record basic "-sn uas" "-sn uac -d 1000" 3
record register "-sf reg_uas.xml" "-sf reg_uac.xml" 3
record busy "-sf busy_uas.xml" "-sf busy_uac.xml" 3
record cancel "-sf cancel_uas.xml" "-sf cancel_uac.xml" 3
record lossy "-sn uas -lost 20" "-sn uac -d 500 -lost 20" 6
