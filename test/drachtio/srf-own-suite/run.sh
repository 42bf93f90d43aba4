#!/bin/bash
# drachtio-srf's own test suite (its test/index.js list) against kemi-proxy in place of
# drachtio-server. Its docker testbed (drachtio-server at 172.29.0.10, a second one at .19, SIPp
# UASs at .12-.29, names resolved by docker) is replaced by loopback addresses in a network
# namespace, /etc/netns/NS/hosts for the names, and local sipp processes.
#
#   test/drachtio/srf-own-suite/run.sh SRF_CHECKOUT [NETNS]
#
# SRF_CHECKOUT: a drachtio-srf source tree (git clone https://github.com/drachtio/drachtio-srf).
# Its test/ runs against the drachtio-srf lib in this repo's node_modules (the version we support);
# tape, mocha etc. are installed in a temp dir, not in the repo. Needs root (netns), sipp, npm,
# and `npx tsc -p .` done (it runs dist/src/cli.js). Every process it starts is stopped by pid.
set -euo pipefail
SRC=${1:?usage: run.sh SRF_CHECKOUT [NETNS]}
NS=${2:-nsdrachtio}
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
W=$(mktemp -d /tmp/srf-own-suite.XXXXXX)
echo "work dir $W"

# the suite, the lib under test, its dev tools
cp -r "$SRC/test" "$SRC/config" "$SRC/package.json" "$W/"
cp -r "$REPO/node_modules/drachtio-srf/lib" "$W/lib"
python3 - "$W/package.json" "$REPO/node_modules/drachtio-srf/package.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1])); lib = json.load(open(sys.argv[2]))
p['dependencies'] = lib['dependencies']
p['devDependencies'] = {k: v for k, v in p.get('devDependencies', {}).items() if k in ('tape', 'mocha', 'should', 'sip-message-examples', 'config')}
json.dump(p, open(sys.argv[1], 'w'), indent=2)
PY
(cd "$W" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
cp "$HERE/sipp.js" "$W/test/sipp.js"
# sipp 3.6 rejects a raw '<' in an attribute value (the docker image's older sipp took it)
sed -i 's/regexp="<sip:(\.\*)>"/regexp="\&lt;sip:(.*)\&gt;"/' "$W"/test/scenarios/*.xml

# the testbed's addresses and names
ip netns add "$NS" 2>/dev/null || true
ip netns exec "$NS" ip link set lo up
for i in $(seq 10 29); do ip netns exec "$NS" ip addr add "172.29.0.$i/32" dev lo 2>/dev/null || true; done
mkdir -p "/etc/netns/$NS"
UAS_LIST="12 sipp-uas-cancel uas-cancel.xml
13 sipp-uas uas.xml
14 sipp-uas-404 uas-404.xml
15 sipp-uas-auth uas-auth.xml
16 sipp-uas-auth-register uas-auth-register.xml
17 sipp-uas-auth-register-no-realm uas-auth-register-no-realm.xml
18 sipp-uas-refer uas-refer.xml
20 sipp-uas-fast-reinvite uas-reinvite.xml
21 sipp-uas-reinvite-overlap uas-reinvite-overlap.xml
22 sipp-uas-302 uas-302.xml
23 sipp-uas-prack uas-prack.xml
24 sipp-uas-bye-with-auth uas-bye-with-auth.xml
25 sipp-uas-reinvite-with-auth uas-reinvite-with-auth.xml
26 sipp-uas-options uas-options-expect-200.xml
27 sipp-uas-407-no-auth-header uas-407-no-auth-header.xml
28 sipp-uas-200-ok-no-contact-cancel uas-200-ok-no-contact-cancel.xml
29 sipp-uas-fast-update uas-update-with-sdp.xml"
{ echo "127.0.0.1 localhost"; echo "172.29.0.10 drachtio-sut"; echo "172.29.0.19 drachtio-uas"
  echo "$UAS_LIST" | while read -r n name _; do echo "172.29.0.$n $name"; done; } > "/etc/netns/$NS/hosts"
echo "nameserver 127.0.0.1" > "/etc/netns/$NS/resolv.conf"   # no DNS: names come from the hosts file

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
inns() { ip netns exec "$NS" "$@"; }

# drachtio-sut and drachtio-uas: two kemi-proxies, every new request to an app
for spec in "172.29.0.10 9061 sut" "172.29.0.19 9062 uas"; do
  set -- $spec
  (cd "$REPO" && exec ip netns exec "$NS" node dist/src/cli.js --script "$HERE/route.lua" --no-watch --metrics off --rpc off \
    --listen "udp:$1:5060" --listen "tcp:$1:5060" --drachtio "127.0.0.1:$2" --drachtio-secret cymru > "$W/$3.log" 2>&1) &
  PIDS+=($!)
done
echo "$UAS_LIST" | while read -r n _ sc; do
  (cd "$W/test/scenarios" && inns sipp -sf "$sc" -i "172.29.0.$n" -p 5060 -nostdin -bg > "$W/sipp-$n.log" 2>&1) || true  # with -bg the parent's exit code says nothing
done
for f in "$W"/sipp-*.log; do p=$(grep -o 'PID=\[[0-9]*\]' "$f" | tr -dc '0-9'); [ -n "$p" ] && PIDS+=("$p") || echo "sipp failed: $f"; done
sleep 2

echo "== unit tests (mocha, no server)"
(cd "$W" && NODE_ENV=test ./node_modules/.bin/mocha ./test/unit-tests/ 2>&1 | grep -E "passing|failing")
pass=0; fail=0
for f in b2b.js reinvite-tests.js uac.js uas.js proxy.js utils.js refer.js; do
  out=$(cd "$W" && NODE_ENV=test timeout 300 ip netns exec "$NS" node -e "require('./test/$f')" 2>&1 || true)
  echo "$out" > "$W/result-$f.txt"
  p=$(echo "$out" | grep -c '^ok ' || true); x=$(echo "$out" | grep -c '^not ok ' || true)
  echo "== $f: $p passed, $x failed"
  pass=$((pass + p)); fail=$((fail + x))
done
echo "TOTAL integration assertions: $pass passed, $fail failed (logs in $W)"
