# Shared by the server benchmarks (bench/web.sh, bench/web-conns.sh):
# sourced, never run. Tools, the open-files limit, the examples' data
# directory, wrk's percentiles, starting and stopping kpi serve and nginx,
# and connections held open.

# bench_need NAME TOOL...: every TOOL on PATH (/usr/sbin added for nginx).
bench_need() {
    local name=$1 tool
    shift
    for tool in "$@"; do
        command -v "$tool" >/dev/null || PATH=$PATH:/usr/sbin
        command -v "$tool" >/dev/null || {
            echo "$name: $tool is needed (apt-get install -y wrk nginx-light curl python3)" >&2
            exit 3
        }
    done
}

# bench_files_limit NAME: the soft open-files limit raised to the hard one,
# as a service manager would (LimitNOFILE=); wrk needs it too (one descriptor
# per connection). At least 8192.
bench_files_limit() {
    ulimit -n "$(ulimit -Hn)"
    [ "$(ulimit -n)" -ge 8192 ] || { echo "$1: the open-files limit is below 8192" >&2; exit 3; }
}

# bench_examples_data KPI DIR: the bundled examples imported into DIR, once.
bench_examples_data() {
    local kpi=$1 dir=$2
    [ -f "$dir/kpi.db" ] && return 0
    KPI_DATA=$dir "$kpi" import --quiet examples/teams.csv --kind teams
    KPI_DATA=$dir "$kpi" import --quiet examples/indicators.csv --kind indicators
    KPI_DATA=$dir "$kpi" import --quiet examples/budget.csv --kind targets
    KPI_DATA=$dir "$kpi" import --quiet examples/finance.csv --encoding cp1252
    KPI_DATA=$dir "$kpi" import --quiet examples/rh_effectifs.csv \
        --column 'date=Fin de période' --date-format '%d.%m.%Y'
    KPI_DATA=$dir "$kpi" import --quiet examples/operations.csv
    KPI_DATA=$dir "$kpi" import --quiet examples/enquete_engagement.csv --kpi engagement \
        --column date=Trimestre --column value=Score
}

# bench_pct P: percentile line P ("99%") of a wrk --latency report on stdin, in ms.
bench_pct() {
    awk -v p="$1" '$1 == p {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}'
}

# bench_errors: socket errors (connect + read + write + timeout) of a wrk report on stdin.
bench_errors() {
    awk '/Socket errors/ {gsub(/,/, ""); e = $4 + $6 + $8 + $10} END {print e + 0}'
}

# bench_rate: requests/s of a wrk report on stdin.
bench_rate() {
    awk '/Requests\/sec/ {print $2}'
}

# kpi_start KPI DATA PORT LOG [SERVE_ARGS...]: kpi serve in the background
# (as of 2026-10-31), kpi_pid set, returns once /healthz answers. $bench_cpus,
# when set, is the CPU list the server is pinned to (taskset).
kpi_start() {
    local kpi=$1 data=$2 port=$3 log=$4
    shift 4
    local pin=()
    [ -n "${bench_cpus:-}" ] && pin=(taskset -c "$bench_cpus")
    "${pin[@]}" "$kpi" --data "$data" serve --listen "127.0.0.1:$port" --as-of 2026-10-31 "$@" \
        >"$log" &
    kpi_pid=$!
    for _ in $(seq 1 100); do
        curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && return 0
        sleep 0.1
    done
    echo "kpi serve did not answer on port $port (see $log)" >&2
    exit 3
}

kpi_stop() {
    kill "$kpi_pid"
    wait "$kpi_pid" || true
}

# nginx_conf FILE PREFIX PORT ROOT [DIRECTIVE...]: a config serving ROOT on
# 127.0.0.1:PORT with 2 workers, its pid file and error log under PREFIX.
nginx_conf() {
    local file=$1 prefix=$2 port=$3 root=$4
    shift 4
    {
        echo "worker_processes 2;"
        echo "pid $prefix/$(basename "$file" .conf).pid;"
        echo "error_log $prefix/nginx-error.log;"
        echo "events { worker_connections 4096; }"
        echo "http {"
        echo "    access_log off;"
        echo "    sendfile on;"
        echo "    open_file_cache max=100;"
        echo "    default_type application/json;"
        for d in "$@"; do echo "    $d;"; done
        echo "    server { listen 127.0.0.1:$port; root $root; }"
        echo "}"
    } >"$file"
}

# nginx_start FILE PREFIX: nginx with that config in the background, not
# daemonized (a daemon would leave this session, hence the scheduling group
# web-conns.sh sets), nginx_pid set (its master; the workers are its
# children). Pinned like kpi_start.
nginx_start() {
    local pin=() pidfile
    pidfile=$2/$(basename "$1" .conf).pid
    rm -f "$pidfile"
    [ -n "${bench_cpus:-}" ] && pin=(taskset -c "$bench_cpus")
    "${pin[@]}" nginx -g 'daemon off;' -c "$1" -p "$2" &
    nginx_pid=$!
    for _ in $(seq 1 50); do [ -s "$pidfile" ] && break; sleep 0.1; done
    sleep 0.2
}

nginx_stop() {
    kill "$nginx_pid"
    wait "$nginx_pid" 2>/dev/null || true
}

# bench_hold PORT N MODE: N connections to PORT held open until killed (run
# it in the background: it execs python3, so its PID is the holder's);
# MODE idle (one request answered, then keep-alive and silence) or half (an
# unfinished request head). Prints "ready" once all are open.
bench_hold() {
    exec python3 - "$@" <<'PY'
import socket, sys, time
port, n, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
socks = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    if mode == "idle":
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    else:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    socks.append(s)
if mode == "idle":
    for s in socks:
        data = b""
        while not data.endswith(b'{"status":"ok"}'):
            data += s.recv(4096)
print("ready", flush=True)
time.sleep(3600)
PY
}

# bench_with_held PORT N MODE OUTFILE CMD...: run CMD while N connections
# are held (bench_hold's output in OUTFILE).
bench_with_held() {
    local port=$1 n=$2 mode=$3 outfile=$4
    shift 4
    bench_hold "$port" "$n" "$mode" >"$outfile" &
    local hold_pid=$!
    for _ in $(seq 1 200); do grep -q ready "$outfile" 2>/dev/null && break; sleep 0.05; done
    local rc=0
    "$@" || rc=$?
    kill "$hold_pid"
    wait "$hold_pid" 2>/dev/null || true
    return "$rc"
}
