#!/usr/bin/env bash
# Start / stop the kt process group under supervisord.
#   deploy/run.sh start     render run/supervisord.conf, start the group, wait until RUNNING
#   deploy/run.sh stop      stop the group (and its redis); leave no process behind
#   deploy/run.sh status    supervisorctl status
# Environment: KT_CONFIG (default deploy/config/sim.json), KT_RUN (default ./run),
# KT_BUILD (default build), KT_SIM_SEED, KT_SIM_SPEED, KT_PREFLIGHT (0 skips the checklist).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUN=${KT_RUN:-$ROOT/run}
BUILD=${KT_BUILD:-build}
case "$BUILD" in /*) BIN=$BUILD/bin ;; *) BIN=$ROOT/$BUILD/bin ;; esac
CONFIG=${KT_CONFIG:-$ROOT/deploy/config/sim.json}
CONF=$RUN/supervisord.conf
CTL=(supervisorctl -c "$CONF")

json_get() {  # json_get FILE section key default; section "" reads a top-level key
    python3 - "$1" "$2" "$3" "$4" <<'PY' 2>/dev/null || echo "$4"
import json, sys
d = json.load(open(sys.argv[1]))
v = d.get(sys.argv[3], sys.argv[4]) if sys.argv[2] == "" else d.get(sys.argv[2], {}).get(sys.argv[3], sys.argv[4])
print(v)
PY
}

hostport() {  # hostport URL -> HOST:PORT of http://HOST:PORT/... or ws://HOST:PORT
    local u=${1#*://}
    echo "${u%%/*}"
}

start() {
    mkdir -p "$RUN/logs" "$RUN/redis"
    if [ -S "$RUN/supervisor.sock" ] && "${CTL[@]}" status >/dev/null 2>&1; then
        echo "kt: already running (deploy/run.sh status, make stop)"; exit 0
    fi
    local mode port speed
    mode=$(json_get "$CONFIG" "" mode sim)
    port=$(json_get "$CONFIG" redis port 6390)
    speed=${KT_SIM_SPEED:-$(json_get "$CONFIG" clock speed 60)}
    # kite-sim starts a fresh venue (no orders, no positions): a book kept from an earlier
    # run would disagree with it, and exits of positions the venue never had would open
    # new ones. So a sim start begins a fresh account; the previous Redis is kept aside,
    # never deleted. KT_KEEP_REDIS=1 keeps it in place.
    if [ "$mode" = "sim" ] && [ "${KT_KEEP_REDIS:-0}" != 1 ] && [ -n "$(ls -A "$RUN/redis" 2>/dev/null)" ]; then
        local aside="$RUN/redis.prev-$(date +%Y%m%d-%H%M%S)"
        mv "$RUN/redis" "$aside" && mkdir -p "$RUN/redis"
        echo "kt: sim mode starts a fresh account (kite-sim's venue is new); previous Redis kept in $aside"
    fi
    if [ "$mode" = "sim" ]; then
        export KITE_API_KEY=${KITE_API_KEY:-sim_api_key}
        export KITE_API_SECRET=${KITE_API_SECRET:-sim_api_secret}
        export KITE_ACCESS_TOKEN=${KITE_ACCESS_TOKEN:-sim_access_token}
        autostart=true
        sim_token=$KITE_ACCESS_TOKEN
    else
        # kite-sim is not started outside sim mode; a real token never goes on a command line.
        autostart=false
        sim_token=none
    fi
    local http ws
    http=$(hostport "$(json_get "$CONFIG" kite api_url http://127.0.0.1:7201)")
    ws=$(hostport "$(json_get "$CONFIG" kite ws_url ws://127.0.0.1:7202)")
    # The session's start and day from the config's clock (sim.json starts before the open).
    local start date
    start=$(json_get "$CONFIG" clock start 09:15)
    date=$(json_get "$CONFIG" clock date "")
    local sim_args="--http $http --ws $ws --seed ${KT_SIM_SEED:-1} --speed $speed --start ${start:-09:15}${date:+ --date $date} --redis 127.0.0.1:$port --access-token $sim_token"
    sed -e "s#@ROOT@#$ROOT#g; s#@RUN@#$RUN#g; s#@BIN@#$BIN#g; s#@CONFIG@#$CONFIG#g" \
        -e "s#@REDIS_PORT@#$port#g; s#@SIM_AUTOSTART@#$autostart#g; s#@SIM_ARGS@#$sim_args#g" \
        "$ROOT/deploy/supervisord.conf" > "$CONF"
    supervisord -c "$CONF"
    # Wait (bounded) for every autostarted program to be RUNNING.
    for _ in $(seq 1 60); do
        sleep 0.5
        local st
        st=$("${CTL[@]}" status 2>/dev/null || true)
        if ! grep -vE 'RUNNING|STOPPED +Not started' <<<"$st" | grep -q .; then
            echo "$st"
            echo
            echo "kt: up in $mode mode. Logs: $RUN/logs/<process>.log (JSON lines; jq is your friend)"
            echo "kt: status:   supervisorctl -c $CONF status"
            echo "kt: restart:  supervisorctl -c $CONF restart kt:risk-gate"
            echo "kt: state:    redis-cli -p $port HGETALL kt:health:strategy"
            echo "kt: stop:     make stop"
            # The pre-market checklist (docs/tradectl.md); it reports, it does not stop the start.
            if [ "${KT_PREFLIGHT:-1}" != 0 ]; then
                # Two heartbeat periods first: a process that started before kite-sim
                # published the session clock beats once more on the shared clock.
                sleep 2
                echo
                "$BIN/tradectl" -c "$CONFIG" preflight --alert-timeout 10 ||
                    echo "kt: preflight FAILED: fix the FAIL lines above before the open" >&2
            fi
            return 0
        fi
    done
    "${CTL[@]}" status || true
    echo "kt: not every process reached RUNNING; see $RUN/logs" >&2
    exit 1
}

stop() {
    if [ ! -f "$RUN/supervisord.pid" ]; then echo "kt: not running"; return 0; fi
    local pid
    pid=$(cat "$RUN/supervisord.pid")
    "${CTL[@]}" shutdown >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.25
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "kt: supervisord did not stop in 15 s; killing the group" >&2
        kill -KILL "$pid" 2>/dev/null || true
    fi
    # Anything of ours still alive (e.g. after a supervisord crash) goes too.
    pkill -TERM -f "$BIN/(kite-sim|md-gateway|strategy|risk-gate|exec-gateway|reconciler|alerter)" 2>/dev/null || true
    pkill -TERM -f "redis-server .*--dir $RUN/redis" 2>/dev/null || true
    rm -f "$RUN/supervisord.pid"
    echo "kt: stopped"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) "${CTL[@]}" status ;;
    *) echo "usage: deploy/run.sh start|stop|status" >&2; exit 2 ;;
esac
