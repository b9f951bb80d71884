#!/usr/bin/env bash
# smoke.sh starts every craftledger server binary the way the containers do —
# static builds (CGO_ENABLED=0), configuration only through CRAFTLEDGER_*
# environment variables and key files — against bin/eventstore on loopback,
# waits for each /readyz, then stops them all with SIGTERM and checks they
# exit cleanly. It checks the deployment's configuration contract without
# Docker or a cluster. Usage: scripts/smoke.sh   (or: make smoke)
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

services=(registry training competition mentorship honour)
declare -A cmd=(
	[eventstore]=pkg/cmd/eventstore [graphql]=graphql/cmd/graphql [healthprobe]=deploy/cmd/healthprobe
	[craftledger]=services/craftledger/cmd/craftledger
)
for s in "${services[@]}"; do cmd[$s]=services/$s/cmd/$s; done

bin=$work/bin
echo "building static binaries into $bin"
for name in "${!cmd[@]}"; do
	CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$bin/$name" "./${cmd[$name]}"
done

mkdir -p "$work/keys" "$work/data" "$work/graphql"
for key in jwt national-id; do
	head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$work/keys/$key.key"
done

# A loopback port nothing listens on (nothing answers a connection there),
# not handed out before in this run, and below Linux's ephemeral range
# (32768-60999 by default), so that the servers' own outgoing connections
# (to the store) cannot take it before its server binds it.
# ($(port) runs in a subshell: the ports handed out are kept in a file.)
port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 12000))
		if ! grep -qx "$p" "$work/ports" 2>/dev/null && ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p" >>"$work/ports"
			echo "$p"
			return
		fi
	done
}

store_port=$(port)
"$bin/eventstore" --data "$work/data" --addr "127.0.0.1:$store_port" --insecure >"$work/eventstore.log" 2>&1 &
pids+=($!)

export CRAFTLEDGER_STORE="esdb://admin:changeit@127.0.0.1:$store_port?tls=false"
export CRAFTLEDGER_JWT_KEY_FILE=$work/keys/jwt.key
# Competition's approving HR authorities, as the Compose file and the k8s
# base give them (only bin/competition gets them here: the all-in-one below
# keeps its own default).
approvers=mohrss,tj-hrss,gd-hrss,js-hrss,sd-hrss
declare -A url
for s in "${services[@]}"; do
	p=$(port)
	extra=()
	[[ $s == competition ]] && extra=(CRAFTLEDGER_APPROVERS=$approvers)
	env "${extra[@]}" CRAFTLEDGER_ADDR=127.0.0.1:$p CRAFTLEDGER_NATIONAL_ID_KEY_FILE=$work/keys/national-id.key \
		"$bin/$s" >"$work/$s.log" 2>&1 &
	pids+=($!)
	url[$s]=http://127.0.0.1:$p/readyz
done
p=$(port)
CRAFTLEDGER_GRAPHQL_ADDR=127.0.0.1:$p CRAFTLEDGER_GRAPHQL_DATA=$work/graphql "$bin/graphql" >"$work/graphql.log" 2>&1 &
pids+=($!)
url[graphql]=http://127.0.0.1:$p/readyz

# The all-in-one, on its own embedded store (as in its container, minus the demo).
p=$(port)
CRAFTLEDGER_ADDR=127.0.0.1:$p CRAFTLEDGER_STORE= CRAFTLEDGER_STORE_ADDR=127.0.0.1:$(port) \
	CRAFTLEDGER_DATA=$work/allinone CRAFTLEDGER_NATIONAL_ID_KEY_FILE=$work/keys/national-id.key \
	"$bin/craftledger" >"$work/craftledger.log" 2>&1 &
pids+=($!)
url[craftledger]=http://127.0.0.1:$p/readyz

failed=0
for s in "${!url[@]}"; do
	ok=0
	for _ in $(seq 1 60); do
		if "$bin/healthprobe" -timeout 1s "${url[$s]}" 2>/dev/null; then ok=1; break; fi
		sleep 0.5
	done
	if [[ $ok == 1 ]]; then
		echo "ready    $s"
	else
		echo "NOT READY $s; its log:"; tail -n 20 "$work/$s.log"; failed=1
	fi
done

for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
for pid in "${pids[@]}"; do
	if ! wait "$pid"; then
		echo "a server (pid $pid) did not exit cleanly on SIGTERM"; failed=1
	fi
done
pids=()

# The all-in-one, like the services, must not fall back to the public
# development keys on its own: without key files and without
# CRAFTLEDGER_DEV=1 it refuses to start, saying what to give.
if out=$(env -u CRAFTLEDGER_JWT_KEY_FILE -u CRAFTLEDGER_AUTH_KEY -u CRAFTLEDGER_DEV \
	CRAFTLEDGER_ADDR=127.0.0.1:$(port) CRAFTLEDGER_STORE= CRAFTLEDGER_STORE_ADDR=127.0.0.1:$(port) \
	CRAFTLEDGER_DATA=$work/nokeys timeout 20 "$bin/craftledger" 2>&1) || [[ $? == 124 ]]; then
	echo "the all-in-one started without keys and without CRAFTLEDGER_DEV=1"; failed=1
elif [[ $out != *"no token key"* ]]; then
	echo "the all-in-one without keys failed with an unclear message: $out"; failed=1
else
	echo "refused  craftledger without keys: $out"
fi

# bin/competition names who approves promotion entitlements or does not
# start: without CRAFTLEDGER_APPROVERS it refuses (rather than let any hr
# user approve), naming the variable.
if out=$(env -u CRAFTLEDGER_APPROVERS CRAFTLEDGER_ADDR=127.0.0.1:$(port) timeout 20 "$bin/competition" 2>&1) || [[ $? == 124 ]]; then
	echo "competition started without CRAFTLEDGER_APPROVERS"; failed=1
elif [[ $out != *CRAFTLEDGER_APPROVERS* ]]; then
	echo "competition without CRAFTLEDGER_APPROVERS failed with an unclear message: $out"; failed=1
else
	echo "refused  competition without approvers: $out"
fi

[[ $failed == 0 ]] && echo "smoke: every server (and the all-in-one) started from its environment, turned ready and stopped cleanly"
exit "$failed"
