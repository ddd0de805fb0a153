#!/usr/bin/env bash
# bench/tls.sh, issue 11 goal 5: `shadoweval run` over TLS and HTTP/2, as
# against the real gateway. A test CA and a server certificate are made with
# openssl; nghttpx (Debian nghttp2-proxy) terminates TLS and speaks HTTP/2
# (at most S concurrent streams per connection) in front of shadowsim (every
# reply after L). The endpoint trusts the CA through `ca_file`: verification
# stays on. Per C: C/L (goal: at least 0.9), and from nghttpx's access log
# the connections used and the TLS handshakes (full or resumed), against
# ceil(C / S) + 2 (goal: at most that).
#
#   bench/tls.sh   env: BENCH_TLS_CONCS ("256 1024"), BENCH_TLS_WAVES (4),
#                  BENCH_TLS_L_MS (1000), BENCH_TLS_STREAMS (100, nghttpx's default)
set -u
cd "$(dirname "$0")/.."
. bench/lib.sh
concs=${BENCH_TLS_CONCS:-256 1024}
waves=${BENCH_TLS_WAVES:-4}
lat=${BENCH_TLS_L_MS:-1000}
streams=${BENCH_TLS_STREAMS:-100}
command -v nghttpx >/dev/null || { echo "tls: nghttpx is not installed (scripts/install-deps.sh installs nghttp2-proxy)" >&2; exit 2; }
bench_nofile
bench_tmp
d=$BENCH_TMP
{
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$d/ca.key" \
    -out "$d/ca.pem" -days 2 -subj '/CN=shadoweval bench CA' &&
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$d/srv.key" \
      -out "$d/srv.csr" -subj '/CN=127.0.0.1' &&
    printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$d/ext.cnf" &&
    openssl x509 -req -in "$d/srv.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
      -out "$d/srv.pem" -days 2 -extfile "$d/ext.cnf"
} >"$d/openssl.log" 2>&1 || { echo "tls: openssl failed: $(tail -3 "$d/openssl.log")" >&2; exit 1; }
bench_profile "$d/prof.json" bench/model "$lat"
bench_sim "$d/prof.json" --threads 4 || exit 1

# nghttpx on a port bound here and handed over (NGHTTPX_ACCEPT_1): no port
# is guessed. Its stdout and error log go to files; ready once its worker
# says so (a line in a file, bounded to 30 s).
python3 - "$d" "$SIM_PORT" "$streams" >"$d/ngx.port" 2>"$d/ngx.out" <<'PY' &
import os, socket, sys
d, backend, streams = sys.argv[1], sys.argv[2], sys.argv[3]
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(4096)
s.set_inheritable(True)
port = s.getsockname()[1]
print(port, flush=True)
os.environ["NGHTTPX_ACCEPT_1"] = "tcp,%d" % s.fileno()
os.execvp("nghttpx", ["nghttpx", "--conf=/dev/null", "--frontend=127.0.0.1,%d" % port,
    "--backend=127.0.0.1,%s" % backend, "--workers=1", "--no-ocsp", "--npn-list=h2",
    "--frontend-http2-max-concurrent-streams=" + streams, "--rlimit-nofile=0",
    "--accesslog-file=" + d + "/access.log",
    "--accesslog-format=$remote_port $alpn $tls_session_reused $status",
    "--errorlog-file=" + d + "/nghttpx.log", d + "/srv.key", d + "/srv.pem"])
PY
ngx_pid=$!
BENCH_PIDS+=("$ngx_pid")
for _ in $(seq 300); do
  grep -q 'Created worker thread' "$d/nghttpx.log" 2>/dev/null && break
  kill -0 "$ngx_pid" 2>/dev/null || break
  sleep 0.1
done
grep -q 'Created worker thread' "$d/nghttpx.log" 2>/dev/null ||
  { echo "tls: nghttpx did not start: $(cat "$d/ngx.out" "$d/nghttpx.log" 2>/dev/null | tail -3)" >&2; exit 1; }
port=$(head -1 "$d/ngx.port")
echo "  nghttpx on 127.0.0.1:$port (TLS, h2 only, $streams streams per connection) before shadowsim"

for c in $concs; do
  n=$((waves * c))
  bench_items "$n" "$d/items.jsonl"
  bench_eval "$d/eval.json" items.jsonl false
  sed -i "s|\"base_url\": \"http://127.0.0.1:9/v1\"|\"base_url\": \"https://127.0.0.1:$port/v1\", \"ca_file\": \"ca.pem\"|" "$d/eval.json"
  rm -rf "$d/run"
  : >"$d/access.log"
  bench_measure "$d/m$c" "$BIN/shadoweval" run "$d/eval.json" -o "$d/run" --concurrency "$c" \
    --quiet >/dev/null 2>"$d/err" || { echo "tls: run failed: $(tail -3 "$d/err")" >&2; exit 1; }
  read -r wall _ _ _ <"$d/m$c"
  ok=$(grep -c '"status":"ok"' "$d/run/results.jsonl")
  # a request's line comes when its stream closes: wait for all of them (bounded)
  for _ in $(seq 100); do [ "$(wc -l <"$d/access.log")" -ge "$n" ] && break; sleep 0.1; done
  conns=$(awk '{print $1}' "$d/access.log" | sort -u | wc -l)
  resumed=$(awk '$3 == "r" {print $1}' "$d/access.log" | sort -u | wc -l)
  h2=$(awk '$2 == "h2"' "$d/access.log" | wc -l)
  most=$(((c + streams - 1) / streams + 2))
  how="BENCH_TLS_CONCS=$c bench/tls.sh: shadoweval run --concurrency $c, $n requests, L=${lat}ms, through nghttpx (TLS, HTTP/2, $streams streams per connection)"
  [ "$ok" = "$n" ] || how="$how ($((n - ok)) not ok)"
  [ "$h2" = "$n" ] || how="$how (only $h2 of $n requests over h2)"
  bench_row 5 "tls_c_over_l_ratio_c$c" "$(bench_fmt "($n / $wall) / ($c * 1000 / $lat)")" ">=0.9" "" "$how"
  bench_row 5 "tls_connections_c$c" "$conns" "<=$most" "" "$how"
  bench_row 5 "tls_handshakes_c$c" "$conns" "" "" "$how"
  bench_row 5 "tls_resumed_handshakes_c$c" "$resumed" "" "" "$how"
  bench_row 5 "tls_connections_over_bound_ratio_c$c" "$(bench_fmt "$conns / $most")" "<=1" "" "$how"
done
