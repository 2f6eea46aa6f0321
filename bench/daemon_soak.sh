#!/usr/bin/env bash
# Soak test of drctl daemon (issue 7: "the daemon holds steady: memory flat over a long run of
# short schedules"). Not part of the test suite. Starts a throwaway PostgreSQL 15 (as user
# postgres, on a free port, drctl as archive_command), a local repository, and the daemon with
# schedules of seconds (backup every 20 s, verify every 30 s, expire every 40 s, drill every 2 min,
# measuring every second, a webhook-less command alert), then samples the daemon's RSS (its own,
# not its children's) and open file descriptors every SAMPLE seconds for DURATION seconds and
# prints the first, middle and last samples, and the growth from the first quarter to the last.
#
# Usage (as root): bench/daemon_soak.sh                 # DURATION=1800 SAMPLE=30
#                  DURATION=300 SAMPLE=10 bench/daemon_soak.sh
# Environment: DRCTL (binary; default build/release/src/cli/drctl, built if missing), DURATION,
# SAMPLE, KEEP=1 (keep the workspace). Stops everything it started, by PID, on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-1800}
SAMPLE=${SAMPLE:-30}
DRCTL=${DRCTL:-build/release/src/cli/drctl}
if [[ ! -x $DRCTL ]]; then
  cmake --preset release >/dev/null && cmake --build build/release --target drctl >/dev/null
fi
bindir=$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)
[[ -x $bindir/initdb ]] || bindir=/usr/lib/postgresql/15/bin

work=$(mktemp -d "${TMPDIR:-/tmp}/drctl-soak-XXXXXX")
chmod 755 "$work"
daemon_pid=""
cleanup() {
  [[ -n $daemon_pid ]] && kill -TERM "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null || true
  su postgres -c "$bindir/pg_ctl -D $work/pgdata -m immediate stop" >/dev/null 2>&1 || true
  [[ ${KEEP:-0} == 1 ]] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
http=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
cp "$DRCTL" "$work/drctl"
echo "soak-passphrase" > "$work/pass"
cat > "$work/drctl.toml" <<TOML
[postgres]
conninfo = "host=127.0.0.1 port=$port user=postgres dbname=postgres"
pgdata = "$work/pgdata"
[[repo]]
name = "local"
url = "file://$work/repo"
[encryption]
passphrase_file = "$work/pass"
scrypt_n = 1024
[wal]
spool = "$work/spool"
[drill]
directory = "$work/drills"
[retention]
keep_last = 3
[schedule]
backup = "@every 20s"
verify = "@every 30s"
expire = "@every 40s"
drill = "@every 2m"
[daemon]
listen = "127.0.0.1:$http"
refresh = "1s"
[alerts]
command = "cat > /dev/null"
TOML
chown -R postgres "$work"
su postgres -c "$bindir/initdb -D $work/pgdata --data-checksums -A trust" >/dev/null
cat >> "$work/pgdata/postgresql.conf" <<CONF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$work'
wal_level = replica
archive_mode = on
archive_command = '$work/drctl --config $work/drctl.toml wal push %p'
archive_timeout = 10
CONF
su postgres -c "$bindir/pg_ctl -D $work/pgdata -l $work/pg.log -w start" >/dev/null
su postgres -c "$work/drctl --config $work/drctl.toml repo init" >/dev/null
su postgres -c "$bindir/pgbench -h 127.0.0.1 -p $port -i -s 5 postgres" >/dev/null 2>&1
su postgres -c "$work/drctl --config $work/drctl.toml daemon" 2> "$work/daemon.log" &
sleep 1
daemon_pid=$(pgrep -u postgres -f "drctl --config $work/drctl.toml daemon" | head -1)
echo "daemon pid $daemon_pid, http 127.0.0.1:$http, ${DURATION}s, a sample every ${SAMPLE}s"
printf 'seconds\trss_kib\tfds\tbackups_ok\tdrills_ok\tjobs_failed\n' | tee "$work/samples.tsv"
start=$(date +%s)
while (( $(date +%s) - start < DURATION )); do
  # A little load between samples, so WAL keeps flowing.
  su postgres -c "$bindir/pgbench -h 127.0.0.1 -p $port -T $((SAMPLE / 2 + 1)) -c 2 postgres" >/dev/null 2>&1 || true
  sleep $((SAMPLE / 2))
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$daemon_pid/status")
  fds=$(ls "/proc/$daemon_pid/fd" | wc -l)
  read -r b d f < <(curl -sf "http://127.0.0.1:$http/status" | python3 -c '
import json,sys; j=json.load(sys.stdin); r={x["name"]:x["runs_ok"] for x in j["jobs"]}
print(r.get("backup",0), r.get("drill",0), sum(x["runs_failed"] for x in j["jobs"]))')
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' $(( $(date +%s) - start )) "$rss" "$fds" "$b" "$d" "$f" | tee -a "$work/samples.tsv"
done
python3 - "$work/samples.tsv" <<'PY'
import sys
rows=[l.split('\t') for l in open(sys.argv[1]).read().split('\n')[1:] if l]
rss=[int(r[1]) for r in rows]; q=max(1,len(rss)//4)
first=sum(rss[:q])/q; last=sum(rss[-q:])/q
print(f"RSS first quarter {first:.0f} KiB, last quarter {last:.0f} KiB, growth {100*(last-first)/first:+.1f}%")
print(f"fds first {rows[0][2]}, last {rows[-1][2]}; backups ok {rows[-1][3]}, drills ok {rows[-1][4]}, failed runs {rows[-1][5]}")
PY
