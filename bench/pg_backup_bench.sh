#!/usr/bin/env bash
# drctl backup/restore against pgBackRest 2.45 and pg_basebackup on the same throwaway PostgreSQL
# 15 cluster with pgbench data. Every operation runs N times, the tools alternating within each
# iteration; the table reports medians and the median of the per-iteration ratios (this machine's
# cores are shared and noisy: compare ratios, not absolute seconds). See bench/README.md.
#
# Usage (as root: installs missing packages, runs the servers and the tools as user postgres):
#   bench/pg_backup_bench.sh
#   SCALE=10 N=3 bench/pg_backup_bench.sh              # quick run (~150 MB of data)
#   DRCTL=/path/to/drctl bench/pg_backup_bench.sh      # use this binary, do not build
#   BUILD_DIR=build/mine bench/pg_backup_bench.sh      # build the Release binary there
# Environment:
#   SCALE            pgbench scale (default 100, ~1.5 GB)       N      iterations (default 3)
#   PGBENCH_SECONDS  length of the calibration pgbench run that fixes the per-iteration
#                    transaction count (default 10)
#   DRCTL            drctl binary to use (default: build it in BUILD_DIR, default build/release)
#   RESULTS_DIR      keep the raw measurements (TSV), the tools' outputs and the table there
#   KEEP=1           keep the temporary directory (servers are stopped all the same)
#   SCRYPT_N         [encryption] scrypt_n for drctl (default: drctl's default, 2^17); only to
#                    separate the key-slot KDF's time and memory from the data path
#   KEY_CACHE=0      no spool for drctl, hence no key cache (<spool>/kek): every drctl run pays
#                    scrypt, as on a host whose spool is missing (default: a spool in the temp
#                    dir, which repo init fills for the new key slot, as a database host's is)
#   TMPDIR           where the temporary directory goes (peak ~9 GB at SCALE=100, ~1 GB at 10)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SCALE=${SCALE:-100}
N=${N:-3}
PGBENCH_SECONDS=${PGBENCH_SECONDS:-10}
PGBIN=/usr/lib/postgresql/15/bin
PY=/usr/bin/python3

# Messages go to the original stderr (fd 9): a trap that fires during a command whose stderr is
# redirected would otherwise write into that redirection.
exec 9>&2
log() { printf '# %s %s\n' "$(date -u +%H:%M:%S)" "$*" >&9; }
die() {
  printf 'pg_backup_bench: %s\n' "$*" >&9
  exit 1
}

[[ $(id -u) -eq 0 ]] || die "run as root (it installs packages and runs PostgreSQL as postgres)"

# --- 1. tools -------------------------------------------------------------------------------
missing=()
command -v pgbackrest >/dev/null || missing+=(pgbackrest)
[[ -x $PGBIN/initdb ]] || missing+=(postgresql-15)
[[ -x $PGBIN/pgbench ]] || missing+=(postgresql-contrib-15)
command -v zstd >/dev/null || missing+=(zstd)
[[ -x /usr/bin/time ]] || missing+=(time)
command -v jq >/dev/null || missing+=(jq)
[[ -x $PY ]] || missing+=(python3)
if ((${#missing[@]})); then
  log "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
getent passwd postgres >/dev/null || die "user postgres is missing (it comes with postgresql-15)"

# --- 2. drctl -------------------------------------------------------------------------------
if [[ -z ${DRCTL:-} ]]; then
  BUILD_DIR=${BUILD_DIR:-$ROOT/build/release}
  log "building drctl (Release) in $BUILD_DIR"
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DDRCTL_INTEGRATION=OFF >/dev/null
  cmake --build "$BUILD_DIR" --target drctl >/dev/null
  DRCTL=$BUILD_DIR/src/cli/drctl
fi
[[ -x $DRCTL ]] || die "no drctl binary at $DRCTL"

# --- temp dir, cleanup ----------------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/drctl-pgbench-XXXXXX")
chmod 755 "$WORK"
PG_PID=""
PGDATA=$WORK/pgdata
cleanup() {
  local rc=$?
  set +e
  # Started but its pid not read yet (failure right after pg_ctl start): take it from PGDATA.
  [[ -z $PG_PID && -f ${PGDATA:-/nonexistent}/postmaster.pid ]] && PG_PID=$(head -1 "$PGDATA/postmaster.pid")
  if [[ -n $PG_PID ]] && kill -0 "$PG_PID" 2>/dev/null; then
    log "stopping PostgreSQL (pid $PG_PID)"
    kill -INT "$PG_PID"
    for _ in $(seq 1 120); do
      kill -0 "$PG_PID" 2>/dev/null || break
      sleep 0.5
    done
    kill -0 "$PG_PID" 2>/dev/null && kill -KILL "$PG_PID"
  fi
  if [[ -n ${RESULTS_DIR:-} && -d $WORK/out ]]; then
    mkdir -p "$RESULTS_DIR" && cp -r "$WORK/out/." "$RESULTS_DIR/"
    [[ -f $WORK/tmp/pg.log ]] && cp "$WORK/tmp/pg.log" "$RESULTS_DIR/postgresql.log"
  fi
  if [[ ${KEEP:-0} == 1 ]]; then
    log "kept $WORK"
  else
    rm -rf "$WORK"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
cd "$WORK"

as_pg() { runuser -u postgres -- "$@"; }
mkdir -p "$WORK"/{bin,sock,tmp,out,restore,limit,pgbr/repo,pgbr/log,pgbr/lock,pgbr/spool,pgbr/conf.d,drctl-repo,drctl-spool}
cp "$DRCTL" "$WORK/bin/drctl"
chmod 755 "$WORK/bin" "$WORK/bin/drctl"
chown -R postgres: "$WORK"/{sock,tmp,out,restore,limit,pgbr,drctl-repo,drctl-spool}
PGDATA=$WORK/pgdata
SOCK=$WORK/sock
PORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
RESULTS=$WORK/out/times.tsv  # iter op tool ms rss_kb cpu_ms (user + sys, children included)
BYTES=$WORK/out/bytes.tsv    # iter op tool key value
printf 'iter\top\ttool\tms\trss_kb\tcpu_ms\n' >"$RESULTS"
printf 'iter\top\ttool\tkey\tvalue\n' >"$BYTES"
ITER=0

psql_q() { as_pg "$PGBIN/psql" -X -q -At -h "$SOCK" -p "$PORT" -d postgres -v ON_ERROR_STOP=1 -c "$1"; }
# Before every timed operation: waits until the archiver has pushed every finished WAL segment, so
# that no archive-push runs in the background of it (drctl's pg_backup_stop leaves one behind, a
# data load many), then writes back all dirty pages (sync), so that no tool pays for the
# writeback of what ran before it.
settle() {
  local _
  for _ in $(seq 1 1200); do
    if [[ $(psql_q "SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'") == 0 ]]; then
      sync
      return 0
    fi
    sleep 0.25
  done
  die "WAL archiving is stuck (see $WORK/tmp/pg.log and $WORK/pgbr/log)"
}
record_bytes() { printf '%s\t%s\t%s\t%s\t%s\n' "$ITER" "$1" "$2" "$3" "$4" >>"$BYTES"; }

# Runs a command as postgres under /usr/bin/time -v and records its wall time (ms), peak RSS (of
# the largest process: pgBackRest's are separate processes) and CPU time (user + sys, children
# included). Its stdout is kept in $WORK/tmp/last.out.
timed() {
  local op=$1 tool=$2
  shift 2
  local tfile=$WORK/tmp/time.txt t0 t1 rss cpu
  settle
  t0=$(date +%s%N)
  if ! as_pg /usr/bin/time -v -o "$tfile" "$@" >"$WORK/tmp/last.out" 2>"$WORK/tmp/last.err"; then
    cat "$WORK/tmp/last.out" "$WORK/tmp/last.err" >&2
    die "$op ($tool) failed: $*"
  fi
  t1=$(date +%s%N)
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tfile")
  cpu=$(awk -F': ' '/(User|System) time \(seconds\)/ {t += $2} END {printf "%d", t * 1000}' "$tfile")
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$ITER" "$op" "$tool" $(((t1 - t0) / 1000000)) "$rss" "$cpu" \
    >>"$RESULTS"
  cat "$WORK/tmp/last.out" >>"$WORK/out/$tool.log"
  cat "$WORK/tmp/last.err" >>"$WORK/out/$tool.log"
  log "  $op $tool: $(((t1 - t0) / 1000000)) ms, CPU $cpu ms, peak RSS ${rss} KiB"
}

# Same for shell pipelines (the restore limits), as root, without RSS.
timed_sh() {
  local op=$1 tool=$2 t0 t1
  settle
  t0=$(date +%s%N)
  bash -c "$3" || die "$op ($tool) failed"
  t1=$(date +%s%N)
  printf '%s\t%s\t%s\t%s\t\t\n' "$ITER" "$op" "$tool" $(((t1 - t0) / 1000000)) >>"$RESULTS"
  log "  $op $tool: $(((t1 - t0) / 1000000)) ms"
}

# --- 3. PostgreSQL 15 with pgbench data -----------------------------------------------------
log "initdb + pgbench -i -s $SCALE in $WORK (port $PORT, socket in $SOCK)"
install -d -m 700 -o postgres -g postgres "$PGDATA"
as_pg "$PGBIN/initdb" --data-checksums -U postgres -A trust -D "$PGDATA" >"$WORK/tmp/initdb.log"
cat >>"$PGDATA/postgresql.conf" <<EOF
listen_addresses = ''
port = $PORT
unix_socket_directories = '$SOCK'
wal_level = replica
max_wal_senders = 10
archive_mode = on
archive_command = '/bin/true'
max_wal_size = 4GB
checkpoint_timeout = 30min
log_checkpoints = on
EOF
as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -l "$WORK/tmp/pg.log" -w -t 120 start >/dev/null
PG_PID=$(head -1 "$PGDATA/postmaster.pid")
log "PostgreSQL pid $PG_PID"
t0=$(date +%s)
as_pg "$PGBIN/pgbench" -h "$SOCK" -p "$PORT" -i -q -s "$SCALE" postgres >"$WORK/tmp/pgbench-init.log" 2>&1
log "pgbench -i took $(($(date +%s) - t0)) s; database $(psql_q "SELECT pg_size_pretty(pg_database_size('postgres'))")"
calib=$(as_pg "$PGBIN/pgbench" -h "$SOCK" -p "$PORT" -n -c 2 -j 2 -T "$PGBENCH_SECONDS" postgres 2>&1 |
  awk -F': ' '/number of transactions actually processed/ {split($2, a, "/"); print a[1]}')
TX_PER_CLIENT=$((calib / 2))
((TX_PER_CLIENT > 0)) || die "pgbench calibration processed no transactions"
log "pgbench calibration: $calib transactions in ${PGBENCH_SECONDS}s; each iteration runs -c 2 -t $TX_PER_CLIENT"

# --- 4. pgBackRest stanza and drctl config --------------------------------------------------
head -c 32 /dev/urandom | base64 | tr -d '\n' >"$WORK/tmp/passphrase"
PASS=$(cat "$WORK/tmp/passphrase")
PGBR_CONF=$WORK/pgbr/pgbackrest.conf
cat >"$PGBR_CONF" <<EOF
[global]
repo1-path=$WORK/pgbr/repo
repo1-cipher-type=aes-256-cbc
repo1-cipher-pass=$PASS
repo1-retention-full=999
expire-auto=n
compress-type=zst
compress-level=3
process-max=2
start-fast=y
log-path=$WORK/pgbr/log
lock-path=$WORK/pgbr/lock
spool-path=$WORK/pgbr/spool
log-level-console=warn
log-level-file=info

[bench]
pg1-path=$PGDATA
pg1-port=$PORT
pg1-socket-path=$SOCK
EOF
chown postgres: "$PGBR_CONF" "$WORK/tmp/passphrase"
chmod 600 "$PGBR_CONF" "$WORK/tmp/passphrase"
PGBR=(pgbackrest "--config=$PGBR_CONF" "--config-include-path=$WORK/pgbr/conf.d" --stanza=bench)
psql_q "ALTER SYSTEM SET archive_command = '${PGBR[*]} archive-push %p'" >/dev/null
psql_q "SELECT pg_reload_conf()" >/dev/null
as_pg "${PGBR[@]}" stanza-create
as_pg "${PGBR[@]}" check

DRCTL_SPOOL=$WORK/drctl-spool
[[ ${KEY_CACHE:-1} == 0 ]] && DRCTL_SPOOL=/nonexistent/drctl-spool
cat >"$WORK/drctl.toml" <<EOF
[postgres]
conninfo = "host=$SOCK port=$PORT user=postgres dbname=postgres"
pgdata = "$PGDATA"
bindir = "$PGBIN"

[[repo]]
name = "bench"
url = "file://$WORK/drctl-repo"

[encryption]
enabled = true
passphrase_file = "$WORK/tmp/passphrase"
${SCRYPT_N:+scrypt_n = $SCRYPT_N}

[backup]
jobs = 2
compression = "zstd:3"

[wal]
spool = "$DRCTL_SPOOL"
EOF
chmod 644 "$WORK/drctl.toml"
DR=("$WORK/bin/drctl" --config "$WORK/drctl.toml")
as_pg "${DR[@]}" config check >/dev/null

# drctl's JSON result of the last timed command, into bytes.tsv.
record_drctl() {
  local op=$1 key
  for key in read_bytes files_read files_reused new_bytes stored_bytes wal_segments; do
    record_bytes "$op" drctl "$key" "$(jq -r ".$key" "$WORK/tmp/last.out")"
  done
}
# The newest pgBackRest backup's sizes, into bytes.tsv.
record_pgbr() {
  local op=$1 info
  info=$(as_pg "${PGBR[@]}" --output=json info | jq -c '.[0].backup[-1]')
  record_bytes "$op" pgbackrest delta "$(jq -r '.info.delta' <<<"$info")"
  record_bytes "$op" pgbackrest repo_delta "$(jq -r '.info.repository.delta' <<<"$info")"
  record_bytes "$op" pgbackrest size "$(jq -r '.info.size' <<<"$info")"
}

drctl_backup() { # op [extra drctl backup flags]
  local op=$1
  shift
  timed "$op" drctl "${DR[@]}" --output json backup --no-progress "$@"
  record_drctl "$op"
}
pgbr_backup() { # op type
  timed "$1" pgbackrest "${PGBR[@]}" "--type=$2" backup
  record_pgbr "$1"
}
pg_basebackup_run() {
  local dir=$WORK/restore/basebackup
  timed full pg_basebackup "$PGBIN/pg_basebackup" -h "$SOCK" -p "$PORT" -U postgres -D "$dir" \
    -Ft --compress=server-zstd:level=3,workers=2 -X none -c fast
  record_bytes full pg_basebackup stored_bytes "$(du -sb "$dir" | cut -f1)"
  rm -rf "$dir"
}
# Runs "$1" then "$2" on odd iterations, the other way round on even ones.
alternate() {
  if ((ITER % 2)); then
    eval "$1"
    eval "$2"
  else
    eval "$2"
    eval "$1"
  fi
}
quiesce() { psql_q "CHECKPOINT" >/dev/null; }
accounts_bytes() { psql_q "SELECT pg_total_relation_size('pgbench_accounts')"; }
# Which 8 KiB pages of the database's files differ from a snapshot: `pages snap NAME` hashes every
# page under PGDATA/base, `pages diff NAME` prints the bytes of pages changed or added since (the
# lower bound for any page-granular incremental backup). Run after a CHECKPOINT.
pages() {
  $PY - "$1" "$WORK/tmp/pages-$2.pickle" "$PGDATA/base" <<'PYEOF'
import hashlib, os, pickle, sys
mode, snap, base = sys.argv[1:4]
cur = {}
for root, _, files in os.walk(base):
    for name in files:
        path = os.path.join(root, name)
        try:
            with open(path, "rb") as f:
                cur[path] = [hashlib.blake2b(page, digest_size=8).digest()
                             for page in iter(lambda: f.read(8192), b"")]
        except FileNotFoundError:
            continue
if mode == "snap":
    pickle.dump(cur, open(snap, "wb"))
else:
    old = pickle.load(open(snap, "rb"))
    changed = 0
    for path, pages in cur.items():
        before = old.get(path, [])
        changed += sum(1 for i, h in enumerate(pages) if i >= len(before) or before[i] != h)
    print(changed * 8192)
PYEOF
}
# A fresh pgbench database for each iteration, so every iteration starts from the same state
# (pgbench_accounts without free space left by earlier updates: the append goes to its end).
load_data() {
  as_pg "$PGBIN/pgbench" -h "$SOCK" -p "$PORT" -i -q -s "$SCALE" postgres \
    >"$WORK/tmp/pgbench-init.log" 2>&1
  quiesce
  settle
  sleep 3 # every file last written before the next backup's start minus drctl's 2 s reuse margin
}

# --- 5. the runs ----------------------------------------------------------------------------
for ITER in $(seq 1 "$N"); do
  log "iteration $ITER of $N: pgbench -i -s $SCALE"
  load_data
  # Full: drctl's first backup into a fresh repository; three tools rotating.
  rm -rf "$WORK/drctl-repo" && mkdir "$WORK/drctl-repo" && chown postgres: "$WORK/drctl-repo"
  as_pg "${DR[@]}" repo init >/dev/null
  fulls=("drctl_backup full" "pgbr_backup full full" "pg_basebackup_run")
  for k in 0 1 2; do
    eval "${fulls[$(((ITER - 1 + k) % 3))]}"
  done

  # No change since the previous backup.
  alternate "drctl_backup nochange" "pgbr_backup nochange incr"

  # Informational: drctl reading everything, all chunks already stored; repository open cost.
  drctl_backup readall --read-all
  alternate "timed info drctl ${DR[*]} --output json info" \
    "timed info pgbackrest ${PGBR[*]} --output=json info"

  # Append 1% rows to pgbench_accounts.
  before=$(accounts_bytes)
  quiesce
  pages snap append
  psql_q "INSERT INTO pgbench_accounts (aid, bid, abalance, filler)
          SELECT m + g, (m + g - 1) / 100000 + 1, 0, ''
          FROM (SELECT max(aid) AS m FROM pgbench_accounts) s,
               generate_series(1, $((SCALE * 1000))) g" >/dev/null
  quiesce
  record_bytes append postgres changed_bytes $(($(accounts_bytes) - before))
  record_bytes append postgres changed_pages_bytes "$(pages diff append)"
  alternate "drctl_backup append" "pgbr_backup append incr"

  # pgbench random updates (the same transaction count every iteration).
  before=$(psql_q "SELECT pg_database_size('postgres')")
  quiesce
  pages snap pgbench
  as_pg "$PGBIN/pgbench" -h "$SOCK" -p "$PORT" -n -c 2 -j 2 -t "$TX_PER_CLIENT" postgres \
    >"$WORK/tmp/pgbench.log" 2>&1
  quiesce
  record_bytes pgbench postgres db_growth_bytes $(($(psql_q "SELECT pg_database_size('postgres')") - before))
  record_bytes pgbench postgres transactions $((TX_PER_CLIENT * 2))
  record_bytes pgbench postgres changed_pages_bytes "$(pages diff pgbench)"
  alternate "drctl_backup pgbench" "pgbr_backup pgbench incr"

  # Restore the newest backup into an empty directory, 2 jobs / processes each.
  mkdir -m 700 "$WORK/restore/drctl" "$WORK/restore/pgbr"
  chown postgres: "$WORK/restore/drctl" "$WORK/restore/pgbr"
  alternate "timed restore drctl ${DR[*]} --output json restore --no-progress --pgdata $WORK/restore/drctl" \
    "timed restore pgbackrest ${PGBR[*]} --pg1-path=$WORK/restore/pgbr restore"
  record_bytes restore drctl restored_bytes "$(du -sb "$WORK/restore/drctl" | cut -f1)"
  record_bytes restore pgbackrest restored_bytes "$(du -sb "$WORK/restore/pgbr" | cut -f1)"

  # Restore limits on 2 processes: (a) reading drctl's packs (page cache) to /dev/null;
  # (b) zstd -d of the restored data (as two zstd:3 tar halves) to /dev/null; (c) (b) plus
  # writing the files with tar and syncing the filesystem (what a restore must also do);
  # (d) writing as many bytes as the restored data with O_DIRECT (two dd), then syncfs: the
  # disk's share alone, which (b) leaves out.
  L=$WORK/limit
  rm -rf "${L:?}"/* && mkdir -p "$L/out1" "$L/out2"
  (cd "$WORK/restore/drctl" && find . -type f -printf '%s\t%p\n') | sort -rn |
    awk -F'\t' -v a="$L/list1" -v b="$L/list2" \
      '{ if (s1 <= s2) { print $2 > a; s1 += $1 } else { print $2 > b; s2 += $1 } }'
  for h in 1 2; do
    tar -C "$WORK/restore/drctl" -cf - -T "$L/list$h" | zstd -3 -T2 -q -o "$L/half$h.tar.zst"
  done
  find "$WORK/drctl-repo/packs" -type f -printf '%s\t%p\n' | sort -rn |
    awk -F'\t' -v a="$L/packs1" -v b="$L/packs2" \
      '{ if (s1 <= s2) { print $2 > a; s1 += $1 } else { print $2 > b; s2 += $1 } }'
  touch "$L/packs1" "$L/packs2"
  record_bytes limit drctl packs_bytes "$(du -sb "$WORK/drctl-repo/packs" | cut -f1)"
  record_bytes limit zstd halves_bytes "$(cat "$L"/half?.tar.zst | wc -c)"
  half_mib=$(($(du -sb "$WORK/restore/drctl" | cut -f1) / 2 / 1048576 + 1))
  rm -rf "$WORK/restore/drctl" "$WORK/restore/pgbr"
  timed_sh limit_read cat "xargs -a $L/packs1 -r cat >/dev/null & xargs -a $L/packs2 -r cat >/dev/null & wait"
  timed_sh limit_zstd zstd "zstd -dcq $L/half1.tar.zst >/dev/null & zstd -dcq $L/half2.tar.zst >/dev/null & wait"
  timed_sh limit_zstd_write zstd "(zstd -dcq $L/half1.tar.zst | tar -x -C $L/out1) & (zstd -dcq $L/half2.tar.zst | tar -x -C $L/out2) & wait; sync -f $L/out1"
  timed_sh limit_write dd "dd if=/dev/zero of=$L/w1 bs=1M count=$half_mib oflag=direct status=none & dd if=/dev/zero of=$L/w2 bs=1M count=$half_mib oflag=direct status=none & wait; sync -f $L/w1"
  rm -rf "${L:?}"/*
done
ITER=0
record_bytes setup postgres scale "$SCALE"
record_bytes setup postgres database_bytes "$(psql_q "SELECT pg_database_size('postgres')")"
record_bytes setup pgbackrest repo_bytes "$(du -sb "$WORK/pgbr/repo" | cut -f1)"

# --- 7. the table ---------------------------------------------------------------------------
{
  echo "# drctl $("${DR[@]}" --version 2>/dev/null | awk '{print $2}') vs $(pgbackrest version) vs pg_basebackup $("$PGBIN/pg_basebackup" --version | awk '{print $3}')"
  echo "# SCALE=$SCALE N=$N${SCRYPT_N:+ SCRYPT_N=$SCRYPT_N}, pgbench -c 2 -t $TX_PER_CLIENT per iteration; $(nproc) cores; $(date -u +%FT%TZ)"
  $PY - "$RESULTS" "$BYTES" <<'PYEOF'
import csv, statistics, sys
from collections import defaultdict

times = defaultdict(dict)   # (op, tool) -> {iter: ms}
rss = defaultdict(list)     # (op, tool) -> [kB]
cpu = defaultdict(dict)     # (op, tool) -> {iter: s}
for r in csv.DictReader(open(sys.argv[1]), delimiter="\t"):
    times[(r["op"], r["tool"])][int(r["iter"])] = int(r["ms"]) / 1000.0
    if r["rss_kb"]:
        rss[(r["op"], r["tool"])].append(int(r["rss_kb"]))
    if r["cpu_ms"]:
        cpu[(r["op"], r["tool"])][int(r["iter"])] = int(r["cpu_ms"]) / 1000.0
nbytes = defaultdict(dict)  # (op, tool, key) -> {iter: value}
for r in csv.DictReader(open(sys.argv[2]), delimiter="\t"):
    try:
        nbytes[(r["op"], r["tool"], r["key"])][int(r["iter"])] = float(r["value"])
    except ValueError:
        pass

def med(d):
    return statistics.median(d.values()) if d else None

def ratios(num, den):
    """Per-iteration num/den (same iteration: measured minutes apart)."""
    return [num[i] / den[i] for i in sorted(num) if i in den and den[i] > 0]

def rtext(rs):
    if not rs:
        return ""
    return f"{statistics.median(rs):.2f} ({min(rs):.2f}-{max(rs):.2f})"

def s(x):
    return "" if x is None else f"{x:.2f}"

def mib(kbs):
    return f"{max(kbs) / 1024:.0f}" if kbs else ""

print()
print("| Operation | drctl s | pgBackRest s | speedup pgBackRest/drctl | pg_basebackup s "
      "| speedup pg_basebackup/drctl | drctl CPU s | pgBackRest CPU s "
      "| drctl peak RSS MiB | pgBackRest peak RSS MiB |")
print("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
rows = [("full backup (drctl: fresh repo; pgBackRest --type=full)", "full"),
        ("unchanged database (drctl backup; pgBackRest --type=incr)", "nochange"),
        ("append 1% rows, then backup / incr", "append"),
        ("pgbench random updates, then backup / incr", "pgbench"),
        ("restore newest backup, empty dir, 2 jobs", "restore"),
        ("drctl backup --read-all, all chunks stored (info)", "readall"),
        ("info --output json (repository open)", "info")]
for label, op in rows:
    d, p, b = times.get((op, "drctl"), {}), times.get((op, "pgbackrest"), {}), \
        times.get((op, "pg_basebackup"), {})
    print(f"| {label} | {s(med(d))} | {s(med(p))} | {rtext(ratios(p, d))} | {s(med(b))} "
          f"| {rtext(ratios(b, d))} | {s(med(cpu.get((op, 'drctl'), {})))} "
          f"| {s(med(cpu.get((op, 'pgbackrest'), {})))} | {mib(rss.get((op, 'drctl')))} "
          f"| {mib(rss.get((op, 'pgbackrest')))} |")

print()
print("Restore limits (2 processes, page cache warm), medians; ratio = drctl restore / limit "
      "(per iteration):")
print()
print("| Limit | seconds | drctl restore / limit | pgBackRest restore / limit |")
print("|---|--:|--:|--:|")
dr, pr = times.get(("restore", "drctl"), {}), times.get(("restore", "pgbackrest"), {})
for label, key in [("read drctl's packs (cat to /dev/null)", ("limit_read", "cat")),
                   ("zstd -d of the restored data (2 zstd:3 tar halves) to /dev/null",
                    ("limit_zstd", "zstd")),
                   ("zstd -d + tar -x + syncfs (read + decompress + write)",
                    ("limit_zstd_write", "zstd")),
                   ("write the same bytes with O_DIRECT (2 dd, nothing decompressed) + syncfs",
                    ("limit_write", "dd"))]:
    l = times.get(key, {})
    print(f"| {label} | {s(med(l))} | {rtext(ratios(dr, l))} | {rtext(ratios(pr, l))} |")

def b(op, tool, key):
    return nbytes.get((op, tool, key), {})

def mb(d):
    m = med(d)
    return "" if m is None else f"{m / 1e6:.1f}"

print()
print("Bytes (medians, MB = 10^6 bytes). drctl: new = raw size of chunks not yet stored, stored = "
      "compressed + encrypted; pgBackRest: delta = raw size of copied files, repo = "
      "backup.info.repository.delta (compressed + encrypted). WAL not included for either.")
print()
print("| Backup | growth of pgbench_accounts | pages changed | drctl read | drctl new "
      "| drctl stored | pgBackRest delta | pgBackRest repo | drctl new / growth "
      "| drctl new / pages changed | drctl stored / pgBackRest repo |")
print("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
for label, op in [("full", "full"), ("unchanged", "nochange"), ("append 1%", "append"),
                  ("pgbench updates", "pgbench"), ("--read-all", "readall")]:
    ch = b(op, "postgres", "changed_bytes")
    cp = b(op, "postgres", "changed_pages_bytes")
    new, st, rd = b(op, "drctl", "new_bytes"), b(op, "drctl", "stored_bytes"), \
        b(op, "drctl", "read_bytes")
    pd, pr_ = b(op, "pgbackrest", "delta"), b(op, "pgbackrest", "repo_delta")
    print(f"| {label} | {mb(ch)} | {mb(cp)} | {mb(rd)} | {mb(new)} | {mb(st)} | {mb(pd)} "
          f"| {mb(pr_)} | {rtext(ratios(new, ch))} | {rtext(ratios(new, cp))} "
          f"| {rtext(ratios(st, pr_))} |")
bb = b("full", "pg_basebackup", "stored_bytes")
if bb:
    print(f"\npg_basebackup -Ft server-zstd:3 output: {mb(bb)} MB.")
tx = b("pgbench", "postgres", "transactions")
if tx:
    print(f"pgbench: {med(tx):.0f} transactions per iteration; database growth "
          f"{mb(b('pgbench', 'postgres', 'db_growth_bytes'))} MB.")

print()
print("Targets (issue), on the medians of per-iteration ratios:")
def target(name, ok, detail):
    verdict = "n/a" if ok is None else ("MET" if ok else "NOT MET")
    print(f"- {verdict}: {name}: {detail}")
def mr(num, den):
    rs = ratios(num, den)
    return statistics.median(rs) if rs else None
t = lambda op, tool: times.get((op, tool), {})
r = mr(t("full", "pgbackrest"), t("full", "drctl"))
target("full >= 2x faster than pgBackRest full", None if r is None else r >= 2, f"{s(r)}x")
r = mr(t("full", "pg_basebackup"), t("full", "drctl"))
target("full no slower than pg_basebackup server-zstd", None if r is None else r >= 1,
       f"pg_basebackup/drctl {s(r)}")
r = mr(t("nochange", "pgbackrest"), t("nochange", "drctl"))
target("unchanged >= 3x faster than incr", None if r is None else r >= 3, f"{s(r)}x")
r = mr(b("append", "drctl", "new_bytes"), b("append", "postgres", "changed_bytes"))
r2 = mr(b("append", "drctl", "stored_bytes"), b("append", "postgres", "changed_bytes"))
r3 = mr(b("append", "drctl", "new_bytes"), b("append", "postgres", "changed_pages_bytes"))
s3 = lambda x: "" if x is None else f"{x:.3f}"
target("append 1%: stores <= 1.2x the changed bytes", None if r is None else r <= 1.2,
       f"new chunks (raw) {s3(r)}x the table's growth and {s3(r3)}x the changed pages; "
       f"stored (compressed, encrypted) {s3(r2)}x the growth")
r = mr(t("append", "pgbackrest"), t("append", "drctl"))
target("append 1%: >= 3x faster than incr", None if r is None else r >= 3, f"{s(r)}x")
r = mr(b("pgbench", "drctl", "stored_bytes"), b("pgbench", "pgbackrest", "repo_delta"))
target("pgbench: stores no more than incr", None if r is None else r <= 1,
       f"drctl stored / pgBackRest repo delta {s(r)}")
r = mr(t("pgbench", "pgbackrest"), t("pgbench", "drctl"))
target("pgbench: no slower than incr", None if r is None else r >= 1, f"{s(r)}x")
r = mr(t("restore", "pgbackrest"), t("restore", "drctl"))
target("restore >= 1.2x faster than pgBackRest", None if r is None else r >= 1.2, f"{s(r)}x")
r = mr(t("restore", "drctl"), t("limit_zstd", "zstd"))
r2 = mr(t("restore", "drctl"), t("limit_zstd_write", "zstd"))
r3 = mr(t("restore", "drctl"), t("limit_write", "dd"))
target("restore within 1.5x of read+decompress", None if r is None else r <= 1.5,
       f"{s(r)}x the zstd -d limit ({s(r2)}x the decompress+write+sync limit, "
       f"{s(r3)}x the direct-write-alone limit)")
peak = max([k for (op, tool), v in rss.items() if tool == "drctl" for k in v] or [0]) / 1024
target("peak memory < 256 MiB (drctl backup and restore)", peak < 256, f"{peak:.0f} MiB")
PYEOF
} | tee "$WORK/out/table.md"
