#!/usr/bin/env bash
# drctl wal push / wal get against pgBackRest 2.45 archive-push / archive-get on real PostgreSQL 15
# WAL (issue 5's speed targets). Two parts, every measurement N times, the tools alternating
# within each iteration; the tables report medians and the median of the per-iteration ratios
# (this machine's cores are shared and noisy: compare ratios, not absolute seconds).
#
#   A. Archiving: SEGS real segments (copied out of pg_wal by archive_command = cp) pushed the way
#      PostgreSQL's archiver does it (one process per segment, in order, .ready -> .done), each
#      tool into a fresh repository / stanza: sync, and async (drctl [wal] async, jobs = 2;
#      pgBackRest archive-async, process-max=2). Limit: zstd -3 -T2 over the same segments.
#      Repositories (REPOS): posix directories, and S3 on OpenStack Swift's s3api (the test
#      harness's Swift, its proxy serving HTTPS with a self-signed certificate both tools verify;
#      started by bench/swift_env.cc, a fresh prefix per tool, mode and iteration).
#   B. Replay: a backup with each tool, a workload of ~REPLAY_SEGS segments archived by both (and
#      cp'd aside), then each tool's backup restored and started with recovery to the end of the
#      archive: drctl wal get with and without prefetch, pgBackRest archive-get async and sync,
#      and the limits (restore_command = cp; the WAL already in pg_wal). See bench/README.md.
#
# Usage (as root: installs missing packages, runs the servers and the tools as user postgres):
#   bench/wal_bench.sh                                  # SEGS=200, REPLAY_SEGS=32, N=3
#   SEGS=40 REPLAY_SEGS=8 N=1 bench/wal_bench.sh        # quick run, a few minutes
#   REPLAY_SEGS=128 N=3 BUILD_DIR=build/h-walbench bench/wal_bench.sh   # the issue's sizes
# Environment:
#   SEGS         segments pushed per archiving run (default 200)
#   REPLAY_SEGS  segments of WAL to replay after the backups (default 32; 128 = ~2 GB)
#   SCALE        pgbench scale of the database the replay part backs up (default 10)
#   GEN_SCALE    pgbench -i scale of each round that generates the archiving segments (default 50)
#   N            iterations (default 3)       PARTS  "archive replay" (default both)
#   REPOS        repositories of the archiving part: "posix swift" (default), "posix", "swift"
#                (the replay part uses posix repositories only)
#   SWIFT_ENV    the drctl_swift_env binary (default: build it in SWIFT_BUILD_DIR, default
#                build/bench-swift, configured with the release preset and DRCTL_INTEGRATION=ON)
#   DRCTL        drctl binary to use (default: build it in BUILD_DIR, default build/release)
#   RESULTS_DIR  keep times.tsv, counts.tsv, the tools' logs and table.md there
#   KEEP=1       keep the temporary directory (servers are stopped all the same)
#   TMPDIR       where the temporary directory goes (~4 GB at SEGS=200 plus ~3x the replay WAL)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SEGS=${SEGS:-200}
REPLAY_SEGS=${REPLAY_SEGS:-32}
SCALE=${SCALE:-10}
GEN_SCALE=${GEN_SCALE:-50}
N=${N:-3}
PARTS=${PARTS:-archive replay}
REPOS=${REPOS:-posix swift}
PGBIN=/usr/lib/postgresql/15/bin
PY=/usr/bin/python3
SEG_BYTES=$((16 * 1024 * 1024))

exec 9>&2
log() { printf '# %s %s\n' "$(date -u +%H:%M:%S)" "$*" >&9; }
die() {
  printf 'wal_bench: %s\n' "$*" >&9
  exit 1
}

[[ $(id -u) -eq 0 ]] || die "run as root (it installs packages and runs PostgreSQL as postgres)"
for r in $REPOS; do
  [[ $r == posix || $r == swift ]] || die "REPOS: unknown repository kind '$r' (posix, swift)"
done
SWIFT=0 # the archiving part runs against Swift
[[ " $PARTS " == *" archive "* && " $REPOS " == *" swift "* ]] && SWIFT=1

# --- 1. tools -------------------------------------------------------------------------------
missing=()
command -v pgbackrest >/dev/null || missing+=(pgbackrest)
[[ -x $PGBIN/initdb ]] || missing+=(postgresql-15)
[[ -x $PGBIN/pgbench ]] || missing+=(postgresql-contrib-15)
command -v zstd >/dev/null || missing+=(zstd)
[[ -x /usr/bin/time ]] || missing+=(time)
command -v jq >/dev/null || missing+=(jq)
[[ -x $PY ]] || missing+=(python3)
if ((SWIFT)); then
  [[ -x /usr/bin/swift-proxy-server ]] || missing+=(swift swift-proxy swift-account swift-container swift-object)
  [[ -x /usr/bin/memcached ]] || missing+=(memcached)
  [[ -x /usr/bin/aws ]] || missing+=(awscli)
  command -v openssl >/dev/null || missing+=(openssl)
  command -v curl >/dev/null || missing+=(curl)
fi
if ((${#missing[@]})); then
  log "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
getent passwd postgres >/dev/null || die "user postgres is missing (it comes with postgresql-15)"

# --- 2. drctl -------------------------------------------------------------------------------
if [[ -z ${DRCTL:-} ]]; then
  BUILD_DIR=${BUILD_DIR:-$ROOT/build/release}
  [[ $BUILD_DIR == /* ]] || BUILD_DIR=$ROOT/$BUILD_DIR
  log "building drctl (Release) in $BUILD_DIR"
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DDRCTL_INTEGRATION=OFF >/dev/null
  cmake --build "$BUILD_DIR" --target drctl >/dev/null
  DRCTL=$BUILD_DIR/src/cli/drctl
fi
[[ -x $DRCTL ]] || die "no drctl binary at $DRCTL"
DRCTL=$(realpath "$DRCTL")
# The Swift endpoint for the S3 runs: the integration harness's SwiftServer, which exists only
# with DRCTL_INTEGRATION=ON (as for bench/s3_throughput.sh), in a build directory of its own.
if ((SWIFT)) && [[ -z ${SWIFT_ENV:-} ]]; then
  SWIFT_BUILD_DIR=${SWIFT_BUILD_DIR:-$ROOT/build/bench-swift}
  [[ $SWIFT_BUILD_DIR == /* ]] || SWIFT_BUILD_DIR=$ROOT/$SWIFT_BUILD_DIR
  log "building drctl_swift_env in $SWIFT_BUILD_DIR"
  (cd "$ROOT" && cmake --preset release -B "$SWIFT_BUILD_DIR" -DDRCTL_INTEGRATION=ON >/dev/null)
  cmake --build "$SWIFT_BUILD_DIR" --target drctl_swift_env >/dev/null
  SWIFT_ENV=$SWIFT_BUILD_DIR/bench/drctl_swift_env
fi
if ((SWIFT)); then
  [[ -x $SWIFT_ENV ]] || die "no drctl_swift_env binary at $SWIFT_ENV"
  SWIFT_ENV=$(realpath "$SWIFT_ENV")
fi

# --- temp dir, cleanup ----------------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/drctl-walbench-XXXXXX")
chmod 755 "$WORK"
PGDATA=$WORK/pgdata
PG_PIDS=()   # every postmaster this script started (the source cluster, the restored ones)
PG_DIRS=()   # their data directories (a pid not read yet is taken from postmaster.pid)
SWIFT_ENV_PID="" # drctl_swift_env (it stops Swift's processes by PID when it ends)
# Its settings (read from its output once Swift is up) and the directory of the files for postgres.
SWIFT_ENDPOINT="" SWIFT_HOST="" SWIFT_PORT="" SWIFT_REGION="" SWIFT_ACCESS_KEY=""
SWIFT_SECRET_KEY="" SWIFT_CA_FILE="" SWIFT_BUCKET="" SWIFT_PIDS="" S3DIR=""

stop_pg() { # pid
  local pid=$1 _
  kill -0 "$pid" 2>/dev/null || return 0
  kill -INT "$pid"
  for _ in $(seq 1 120); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.5
  done
  kill -KILL "$pid" 2>/dev/null || true
}
# Processes of the tools that outlive the call that started them: pgBackRest's async
# archive-push/archive-get process and drctl's detached prefetcher. Found by their argv[0] (this
# run's drctl copy, or pgbackrest with this run's config) among this user's processes; printed by
# PID.
stray_pids() {
  local p cmd argv0
  for p in /proc/[0-9]*; do
    cmd=$(tr '\0' ' ' 2>/dev/null <"$p/cmdline") || continue
    argv0=${cmd%% *}
    [[ $cmd == *"$WORK/"* ]] || continue
    [[ $argv0 == "$WORK/bin/drctl" || ${argv0##*/} == pgbackrest ]] && echo "${p#/proc/}"
  done
  return 0
}
wait_strays() { # timeout in s; then SIGTERM them
  local _ pids
  for _ in $(seq 1 $(($1 * 10))); do
    pids=$(stray_pids)
    [[ -z $pids ]] && return 0
    sleep 0.1
  done
  log "stopping leftover tool processes: $pids"
  # shellcheck disable=SC2086
  kill -TERM $pids 2>/dev/null || true
}
# Ends drctl_swift_env: end-of-file on its stdin and SIGTERM (by PID); it stops Swift's servers
# by PID. After 60 s, SIGKILL (the servers then die by their parent-death signal).
stop_swift() {
  local _
  log "stopping Swift (drctl_swift_env pid $SWIFT_ENV_PID)"
  [[ -n ${SWIFT_IN:-} ]] && { exec {SWIFT_IN}>&-; } 2>/dev/null
  kill -TERM "$SWIFT_ENV_PID" 2>/dev/null
  for _ in $(seq 1 600); do
    kill -0 "$SWIFT_ENV_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$SWIFT_ENV_PID" 2>/dev/null
  wait "$SWIFT_ENV_PID" 2>/dev/null
  SWIFT_ENV_PID=""
}
cleanup() {
  local rc=$? i pid
  set +e
  trap '' PIPE # a reader of our output that is gone must not stop the cleanup half-way
  for i in "${!PG_DIRS[@]}"; do
    pid=${PG_PIDS[$i]:-}
    [[ -z $pid && -f ${PG_DIRS[$i]}/postmaster.pid ]] && pid=$(head -1 "${PG_DIRS[$i]}/postmaster.pid")
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
      log "stopping PostgreSQL (pid $pid, ${PG_DIRS[$i]})"
      stop_pg "$pid"
    fi
  done
  wait_strays 5
  [[ -n $SWIFT_ENV_PID ]] && stop_swift
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
mkdir -p "$WORK"/{bin,sock,tmp,out,segs,a,b/walcopy,b/restore,pgbr/log,pgbr/lock}
cp "$DRCTL" "$WORK/bin/drctl"
chmod 755 "$WORK/bin" "$WORK/bin/drctl"
chown -R postgres: "$WORK"/{sock,tmp,out,segs,a,b,pgbr}
SOCK=$WORK/sock
free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
RESULTS=$WORK/out/times.tsv # iter op tool ms cpu_ms
COUNTS=$WORK/out/counts.tsv # iter op tool key value
printf 'iter\top\ttool\tms\tcpu_ms\n' >"$RESULTS"
printf 'iter\top\ttool\tkey\tvalue\n' >"$COUNTS"
chown postgres: "$RESULTS" "$COUNTS"
ITER=0
record() { printf '%s\t%s\t%s\t%s\t%s\n' "$ITER" "$1" "$2" "$3" "$4" >>"$RESULTS"; }
record_count() { printf '%s\t%s\t%s\t%s\t%s\n' "$ITER" "$1" "$2" "$3" "$4" >>"$COUNTS"; }
psql_at() { # port sql
  as_pg "$PGBIN/psql" -X -q -At -h "$SOCK" -p "$1" -d postgres -v ON_ERROR_STOP=1 -c "$2"
}
psql_q() { psql_at "$PORT" "$1"; }
# Before every timed operation: nothing of an earlier step still running (the source cluster's
# archiver idle, no async/prefetch process left), dirty pages written back.
settle() {
  local _
  for _ in $(seq 1 1200); do
    [[ $(psql_q "SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'") == 0 ]] && break
    sleep 0.25
  done
  wait_strays 60
  sync
}

# Runs a command as postgres under /usr/bin/time -v: wall time (ms) and CPU (user + sys of it and
# of the children it waited for; detached processes are not counted).
timed() {
  local op=$1 tool=$2
  shift 2
  local tfile=$WORK/tmp/time.txt t0 t1 cpu
  settle
  t0=$(date +%s%N)
  if ! as_pg /usr/bin/time -v -o "$tfile" "$@" >"$WORK/tmp/last.out" 2>"$WORK/tmp/last.err"; then
    tail -n 30 "$WORK/tmp/last.out" "$WORK/tmp/last.err" >&9
    die "$op ($tool) failed: $*"
  fi
  t1=$(date +%s%N)
  cpu=$(awk -F': ' '/(User|System) time \(seconds\)/ {t += $2} END {printf "%d", t * 1000}' "$tfile")
  record "$op" "$tool" $(((t1 - t0) / 1000000)) "$cpu"
  cat "$WORK/tmp/last.out" "$WORK/tmp/last.err" >>"$WORK/out/$tool.log"
  log "  $op $tool: $(((t1 - t0) / 1000000)) ms, CPU $cpu ms"
}

# --- 3. PostgreSQL 15 -----------------------------------------------------------------------
log "initdb in $WORK (port $PORT, socket in $SOCK)"
install -d -m 700 -o postgres -g postgres "$PGDATA"
as_pg "$PGBIN/initdb" --data-checksums -U postgres -A trust -D "$PGDATA" >"$WORK/tmp/initdb.log"
cat >>"$PGDATA/postgresql.conf" <<EOF
listen_addresses = ''
port = $PORT
unix_socket_directories = '$SOCK'
wal_level = replica
max_wal_senders = 10
archive_mode = on
archive_command = 'cp %p $WORK/segs/%f'
max_wal_size = 4GB
checkpoint_timeout = 30min
log_checkpoints = on
EOF
PG_DIRS+=("$PGDATA")
as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -l "$WORK/tmp/pg.log" -w -t 120 start >/dev/null
PG_PIDS[0]=$(head -1 "$PGDATA/postmaster.pid")
log "PostgreSQL pid ${PG_PIDS[0]}"
pgbench() { as_pg "$PGBIN/pgbench" -h "$SOCK" -p "$PORT" "$@" postgres >>"$WORK/tmp/pgbench.log" 2>&1; }
# The names of the WAL segments (24 hex digits) in a directory, sorted.
seg_names() { find "$1" -maxdepth 1 -type f -regextype posix-extended -regex '.*/[0-9A-F]{24}' -printf '%f\n' | sort; }
wait_archived() { # the archiver has nothing left
  local _
  for _ in $(seq 1 2400); do
    [[ $(psql_q "SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'") == 0 ]] && return 0
    sleep 0.25
  done
  die "WAL archiving is stuck (see $WORK/tmp/pg.log)"
}

head -c 32 /dev/urandom | base64 | tr -d '\n' >"$WORK/tmp/passphrase"
PASS=$(cat "$WORK/tmp/passphrase")
chown postgres: "$WORK/tmp/passphrase"
chmod 600 "$WORK/tmp/passphrase"

# The [[repo]] of drctl's config, pgBackRest's repo1 options: REPO is a directory (posix) or
# s3://BUCKET/PREFIX (on the Swift started below; credentials from files only postgres reads).
drctl_repo() { # REPO
  if [[ $1 == s3://* ]]; then
    cat <<EOF
url = "$1"
endpoint = "$SWIFT_ENDPOINT"
region = "$SWIFT_REGION"
path_style = true
ca_file = "$S3DIR/ca.pem"
access_key_id_file = "$S3DIR/access_key"
secret_access_key_file = "$S3DIR/secret_key"
EOF
  else
    echo "url = \"file://$1\""
  fi
}
pgbr_repo() { # REPO
  if [[ $1 == s3://* ]]; then
    local rest=${1#s3://}
    cat <<EOF
repo1-type=s3
repo1-s3-endpoint=$SWIFT_HOST
repo1-storage-port=$SWIFT_PORT
repo1-s3-bucket=${rest%%/*}
repo1-s3-region=$SWIFT_REGION
repo1-s3-uri-style=path
repo1-s3-key=$SWIFT_ACCESS_KEY
repo1-s3-key-secret=$SWIFT_SECRET_KEY
repo1-storage-ca-file=$S3DIR/ca.pem
repo1-path=/${rest#*/}
EOF
  else
    echo "repo1-path=$1"
  fi
}
# drctl config: drctl_conf FILE REPO SPOOL ASYNC PREFETCH (REPO: a directory or s3://BUCKET/PREFIX)
drctl_conf() {
  cat >"$1" <<EOF
[postgres]
conninfo = "host=$SOCK port=$PORT user=postgres dbname=postgres"
pgdata = "$PGDATA"
bindir = "$PGBIN"

[[repo]]
name = "bench"
$(drctl_repo "$2")

[encryption]
enabled = true
passphrase_file = "$WORK/tmp/passphrase"

[backup]
jobs = 2
compression = "zstd:3"

[wal]
spool = "$3"
async = $4
jobs = 2
prefetch = $5
EOF
  chmod 644 "$1"
}
# pgBackRest config: pgbr_conf FILE REPO SPOOL ASYNC(y/n) (REPO: a directory or s3://BUCKET/PREFIX)
pgbr_conf() {
  cat >"$1" <<EOF
[global]
$(pgbr_repo "$2")
repo1-cipher-type=aes-256-cbc
repo1-cipher-pass=$PASS
repo1-retention-full=999
expire-auto=n
compress-type=zst
compress-level=3
process-max=2
start-fast=y
archive-async=$4
spool-path=$3
log-path=$WORK/pgbr/log
lock-path=$WORK/pgbr/lock
log-level-console=warn
log-level-file=info

[bench]
pg1-path=$PGDATA
pg1-port=$PORT
pg1-socket-path=$SOCK
EOF
  chown postgres: "$1"
  chmod 600 "$1"
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

# ============================================================================================
# A. Archiving
# ============================================================================================
# PostgreSQL's archiver, emulated (as postgres): for each ready file in order (snapshot of
# archive_status at the start, sorted: segments only, so that is PostgreSQL's order too) run the
# archive_command through /bin/sh with %p (absolute path) and %f replaced, and on success rename
# .ready to .done. A failure fails the run (the benchmark is then void).
cat >"$WORK/bin/archiver.sh" <<'EOF'
#!/bin/bash
set -u
wal=$1 cmd=$2
cd "$wal" || exit 1
for ready in $(ls archive_status | grep '\.ready$' | sort); do
  f=${ready%.ready}
  c=${cmd//%p/$wal/$f}
  c=${c//%f/$f}
  if ! /bin/sh -c "$c"; then
    echo "archive_command failed for $f: $c" >&2
    exit 1
  fi
  mv "archive_status/$f.ready" "archive_status/$f.done"
done
EOF
chmod 755 "$WORK/bin/archiver.sh"

if [[ " $PARTS " == *" archive "* ]]; then
  if ((SWIFT)); then
    # Swift with TLS on its proxy, and one bucket; started now, it comes up while the segments are
    # generated. drctl_swift_env prints one line of settings and runs until its stdin ends (or
    # SIGTERM): stop_swift, from the EXIT trap.
    log "starting Swift (TLS) with $SWIFT_ENV"
    coproc SWIFTENV { exec "$SWIFT_ENV" --tls --bucket walbench 2>>"$WORK/out/swift-env.log"; }
    # shellcheck disable=SC2153 # set by coproc
    SWIFT_ENV_PID=$SWIFTENV_PID
    SWIFT_IN=${SWIFTENV[1]}
    SWIFT_OUT=${SWIFTENV[0]}
  fi
  # Real segments: pgbench -i (COPY, index builds) and pgbench updates, each segment copied out of
  # pg_wal by archive_command = cp before it is recycled. The first 2 (initdb) are skipped.
  log "generating $SEGS WAL segments (pgbench -i -s $GEN_SCALE rounds + pgbench updates)"
  while (($(seg_names "$WORK/segs" | wc -l) < SEGS + 3)); do
    pgbench -i -q -s "$GEN_SCALE"
    pgbench -n -c 2 -j 2 -T 5
    psql_q "SELECT pg_switch_wal()" >/dev/null
    wait_archived
  done
  seg_names "$WORK/segs" | sed -n "3,$((SEGS + 2))p" >"$WORK/tmp/seglist"
  SEG_LIST=$WORK/tmp/seglist
  record_count setup segments count "$(wc -l <"$SEG_LIST")"
  record_count setup segments zstd3_bytes "$(cd "$WORK/segs" && xargs -a "$SEG_LIST" cat | zstd -3 -T2 -q -c | wc -c)"
  log "segments $(head -1 "$SEG_LIST") .. $(tail -1 "$SEG_LIST")"
  NSEG=$(wc -l <"$SEG_LIST")

  if ((SWIFT)); then
    settings=""
    read -r -t 600 settings <&"$SWIFT_OUT" || true
    [[ $settings == SWIFT_ENDPOINT=https://* ]] || {
      tail -n 30 "$WORK/out/swift-env.log" >&9
      die "drctl_swift_env gave no settings (its log: $WORK/out/swift-env.log)"
    }
    for word in $settings; do # KEY=VALUE words, no spaces in the values
      case ${word%%=*} in
        SWIFT_ENDPOINT | SWIFT_HOST | SWIFT_PORT | SWIFT_TLS | SWIFT_REGION | SWIFT_ACCESS_KEY | \
          SWIFT_SECRET_KEY | SWIFT_CA_FILE | SWIFT_BUCKET | SWIFT_PIDS)
          printf -v "${word%%=*}" '%s' "${word#*=}"
          ;;
        *) die "drctl_swift_env: unexpected output '${word%%=*}'" ;;
      esac
    done
    log "Swift at $SWIFT_ENDPOINT, bucket $SWIFT_BUCKET (pids $SWIFT_PIDS)"
    # What both tools read as postgres: the CA (the proxy's self-signed certificate), drctl's
    # credential files. pgBackRest's key and secret are in its config (mode 600, postgres).
    S3DIR=$WORK/s3
    install -d -m 755 -o postgres -g postgres "$S3DIR"
    install -m 644 -o postgres -g postgres "$SWIFT_CA_FILE" "$S3DIR/ca.pem"
    (umask 077 && printf '%s\n' "$SWIFT_ACCESS_KEY" >"$S3DIR/access_key" &&
      printf '%s\n' "$SWIFT_SECRET_KEY" >"$S3DIR/secret_key")
    chown postgres: "$S3DIR/access_key" "$S3DIR/secret_key"
  fi
  # awscli on the Swift endpoint as root (credentials and CA through the environment).
  s3_aws() {
    AWS_ACCESS_KEY_ID=$SWIFT_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$SWIFT_SECRET_KEY \
      AWS_CA_BUNDLE=$S3DIR/ca.pem AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
      AWS_EC2_METADATA_DISABLED=true AWS_PAGER="" \
      /usr/bin/aws --endpoint-url "$SWIFT_ENDPOINT" --region "$SWIFT_REGION" "$@"
  }
  # After a run on Swift: what is stored under the run's prefix (objects, bytes, and the objects
  # whose key names one of the segments: at least as many as were pushed, or the run is void),
  # then the prefix is emptied (untimed) so that Swift's disk use stays that of one run.
  s3_account() { # op tool prefix
    local listing wal objects bytes
    listing=$(s3_aws s3 ls "s3://$SWIFT_BUCKET/$3/" --recursive --summarize) ||
      die "$2 $1: cannot list s3://$SWIFT_BUCKET/$3/"
    objects=$(awk '/Total Objects:/ {print $3}' <<<"$listing")
    bytes=$(awk '/Total Size:/ {print $3}' <<<"$listing")
    wal=$(grep -cE '[0-9A-F]{24}' <<<"$listing" || true)
    record_count "$1" "$2" repo_bytes "$bytes"
    record_count "$1" "$2" s3_objects "$objects"
    record_count "$1" "$2" s3_wal_objects "$wal"
    log "  $1 $2: s3://$SWIFT_BUCKET/$3/ holds $objects objects ($wal named after a segment), $bytes bytes"
    ((wal >= NSEG)) || die "$2 $1: only $wal of $NSEG segments are in s3://$SWIFT_BUCKET/$3/"
    s3_aws s3 rm "s3://$SWIFT_BUCKET/$3/" --recursive --quiet || die "cannot empty s3://$SWIFT_BUCKET/$3/"
  }

  # A fake data directory for one run: pg_wal with hard links to the segments, all marked ready,
  # and a copy of the source's global/pg_control (pgBackRest reads the system identifier from
  # --pg1-path, and its async mode wants pg_wal inside it).
  fake_pg_wal() { # dir
    rm -rf "$1"
    as_pg mkdir -p "$1/pg_wal/archive_status" "$1/global"
    cp "$PGDATA/global/pg_control" "$1/global/" && cp "$PGDATA/PG_VERSION" "$1/"
    (cd "$WORK/segs" && xargs -a "$SEG_LIST" -I{} ln {} "$1/pg_wal/{}")
    (cd "$1/pg_wal/archive_status" && xargs -a "$SEG_LIST" -I{} touch {}.ready)
    chown -R postgres: "$1"
  }
  check_done() { # dir tool mode
    local left
    left=$(find "$1/pg_wal/archive_status" -name '*.ready' | wc -l)
    ((left == 0)) || die "$2 $3: $left segments not archived"
  }
  # One archiving run: arch_drctl / arch_pgbr MODE (sync|async) REPO (posix|swift). Posix: a
  # repository directory in the run's directory, op push_MODE. Swift: s3://walbench/TOOL-ITER-MODE
  # (a fresh prefix), op push_MODE_swift.
  arch_drctl() {
    local d=$WORK/a/drctl-$ITER-$1-$2 async=false op=push_$1 repo prefix=drctl-$ITER-$1
    [[ $1 == async ]] && async=true
    [[ $2 == swift ]] && op=push_${1}_swift
    fake_pg_wal "$d"
    as_pg mkdir -p "$d/repo" "$d/spool"
    repo=$d/repo
    [[ $2 == swift ]] && repo=s3://$SWIFT_BUCKET/$prefix
    drctl_conf "$d/drctl.toml" "$repo" "$d/spool" "$async" 0
    as_pg "$WORK/bin/drctl" --config "$d/drctl.toml" repo init >/dev/null
    timed "$op" drctl "$WORK/bin/archiver.sh" "$d/pg_wal" \
      "$WORK/bin/drctl --config $d/drctl.toml wal push %p"
    check_done "$d" drctl "$1"
    record_count "$op" drctl stored_ahead "$(grep -c 'was stored ahead' "$WORK/tmp/last.out" || true)"
    if [[ $2 == swift ]]; then
      wait_strays 60
      local info=$WORK/out/$op-drctl-$ITER.info.json n
      as_pg "$WORK/bin/drctl" --config "$d/drctl.toml" --output json info >"$info" 2>&1 ||
        die "drctl info on $repo failed (see $info)"
      n=$(jq '[.repos[0].wal.timelines[].ranges[].segments] | add // 0' "$info")
      ((n == NSEG)) || die "drctl $1: drctl info counts $n segments in $repo, not $NSEG"
      s3_account "$op" drctl "$prefix"
    else
      record_count "$op" drctl repo_bytes "$(du -sb "$d/repo" | cut -f1)"
    fi
    rm -rf "$d"
  }
  arch_pgbr() {
    local d=$WORK/a/pgbr-$ITER-$1-$2 async=n op=push_$1 repo prefix=pgbr-$ITER-$1
    [[ $1 == async ]] && async=y
    [[ $2 == swift ]] && op=push_${1}_swift
    fake_pg_wal "$d"
    as_pg mkdir -p "$d/repo" "$d/spool"
    repo=$d/repo
    [[ $2 == swift ]] && repo=s3://$SWIFT_BUCKET/$prefix
    pgbr_conf "$d/pgbackrest.conf" "$repo" "$d/spool" "$async"
    as_pg pgbackrest "--config=$d/pgbackrest.conf" --stanza=bench stanza-create >/dev/null
    timed "$op" pgbackrest "$WORK/bin/archiver.sh" "$d/pg_wal" \
      "pgbackrest --config=$d/pgbackrest.conf --stanza=bench --pg1-path=$d archive-push %p"
    check_done "$d" pgbackrest "$1"
    wait_strays 60
    if [[ $2 == swift ]]; then
      local info=$WORK/out/$op-pgbackrest-$ITER.info.json range
      as_pg pgbackrest "--config=$d/pgbackrest.conf" --stanza=bench --output=json info >"$info" 2>&1 ||
        die "pgbackrest info on $repo failed (see $info)"
      range=$(jq -r '.[0].archive[0] | "\(.min) \(.max)"' "$info")
      [[ $range == "$(head -1 "$SEG_LIST") $(tail -1 "$SEG_LIST")" ]] ||
        die "pgbackrest $1: pgbackrest info shows the archive $range in $repo"
      s3_account "$op" pgbackrest "$prefix"
    else
      record_count "$op" pgbackrest repo_bytes "$(du -sb "$d/repo" | cut -f1)"
    fi
    rm -rf "$d"
  }
  arch_limits() {
    local d=$WORK/a/limit-$ITER
    settle
    local t0 t1
    t0=$(date +%s%N)
    (cd "$WORK/segs" && xargs -a "$SEG_LIST" cat | zstd -3 -T2 -q -c >/dev/null)
    t1=$(date +%s%N)
    record limit_zstd zstd $(((t1 - t0) / 1000000)) ""
    log "  limit zstd -3 -T2: $(((t1 - t0) / 1000000)) ms"
    sync
    t0=$(date +%s%N)
    (cd "$WORK/segs" && xargs -a "$SEG_LIST" -P 2 -n $(((SEGS + 1) / 2)) zstd -3 -q -c >/dev/null)
    t1=$(date +%s%N)
    record limit_zstd_p2 zstd $(((t1 - t0) / 1000000)) ""
    log "  limit zstd -3, 2 processes: $(((t1 - t0) / 1000000)) ms"
    fake_pg_wal "$d"
    as_pg mkdir -p "$d/dest"
    timed limit_cp cp "$WORK/bin/archiver.sh" "$d/pg_wal" "cp %p $d/dest/%f"
    fake_pg_wal "$d"
    timed limit_true true "$WORK/bin/archiver.sh" "$d/pg_wal" "/bin/true"
    fake_pg_wal "$d"
    timed limit_zstd_proc zstd "$WORK/bin/archiver.sh" "$d/pg_wal" "zstd -3 -q -c %p >/dev/null"
    rm -rf "$d"
  }

  for ITER in $(seq 1 "$N"); do
    log "archiving, iteration $ITER of $N ($SEGS segments per run; repositories: $REPOS)"
    for repo_kind in $REPOS; do
      alternate "arch_drctl sync $repo_kind" "arch_pgbr sync $repo_kind"
      alternate "arch_drctl async $repo_kind" "arch_pgbr async $repo_kind"
    done
    arch_limits
  done
  ITER=0
fi

# ============================================================================================
# B. Replay
# ============================================================================================
if [[ " $PARTS " == *" replay "* ]]; then
  B=$WORK/b
  as_pg mkdir -p "$B/drctl-repo" "$B/pgbr-repo" "$B/spool-push" "$B/spool-get" "$B/pgbr-spool"
  drctl_conf "$B/drctl-push.toml" "$B/drctl-repo" "$B/spool-push" false 0
  drctl_conf "$B/drctl-prefetch.toml" "$B/drctl-repo" "$B/spool-get" false 8
  drctl_conf "$B/drctl-sync.toml" "$B/drctl-repo" "$B/spool-get" false 0
  pgbr_conf "$B/pgbr-sync.conf" "$B/pgbr-repo" "$B/pgbr-spool" n
  pgbr_conf "$B/pgbr-async.conf" "$B/pgbr-repo" "$B/pgbr-spool" y
  DRP=("$WORK/bin/drctl" --config "$B/drctl-push.toml")
  PGBRS=(pgbackrest "--config=$B/pgbr-sync.conf" --stanza=bench)

  log "replay: pgbench -i -s $SCALE, drctl and pgBackRest backups"
  psql_q "ALTER SYSTEM SET archive_command = '${DRP[*]} wal push %p && ${PGBRS[*]} archive-push %p && cp %p $B/walcopy/%f'" >/dev/null
  psql_q "SELECT pg_reload_conf()" >/dev/null
  as_pg "${DRP[@]}" repo init >/dev/null
  as_pg "${PGBRS[@]}" stanza-create >/dev/null
  pgbench -i -q -s "$SCALE"
  psql_q "CREATE TABLE walbench_bulk (id bigint, payload text)" >/dev/null
  psql_q "CHECKPOINT" >/dev/null
  wait_archived
  as_pg "${DRP[@]}" --output json backup --no-progress >"$WORK/out/drctl-backup.json"
  as_pg "${PGBRS[@]}" --type=full backup
  start_lsn=$(psql_q "SELECT pg_current_wal_lsn()")
  log "replay workload: ~$REPLAY_SEGS segments (pgbench updates + bulk inserts)"
  while (($(psql_q "SELECT (pg_current_wal_lsn() - '$start_lsn')::bigint") < REPLAY_SEGS * SEG_BYTES)); do
    pgbench -n -c 2 -j 2 -T 5
    psql_q "INSERT INTO walbench_bulk SELECT g, md5(g::text) || repeat('x', 100) FROM generate_series(1, 300000) g" >/dev/null
  done
  psql_q "SELECT pg_switch_wal()" >/dev/null
  wait_archived
  EXPECT=$(psql_q "SELECT count(*) || '/' || sum(abalance) FROM pgbench_accounts")/$(psql_q "SELECT count(*) FROM walbench_bulk")
  record_count setup replay wal_bytes "$(psql_q "SELECT (pg_current_wal_lsn() - '$start_lsn')::bigint")"
  record_count setup replay walcopy_segments "$(seg_names "$B/walcopy" | wc -l)"
  log "workload done: $(seg_names "$B/walcopy" | wc -l) segments archived; expect $EXPECT"

  # The restored server: its own port, this socket directory, no archiving (a promoted restore
  # must not push a timeline history file into the repositories the next restore reads).
  # Times pg_ctl start to pg_is_in_recovery() = false (the end of recovery, promoted).
  replay() { # op tool dir
    local op=$1 tool=$2 dir=$3 port t0 t1 pid="" state _ got idx
    port=$(free_port)
    idx=${#PG_DIRS[@]}
    PG_DIRS+=("$dir")
    settle
    t0=$(date +%s%N)
    as_pg "$PGBIN/pg_ctl" -D "$dir" -l "$dir.log" \
      -o "-c port=$port -c unix_socket_directories=$SOCK -c archive_mode=off -c listen_addresses=''" \
      start >/dev/null
    for _ in $(seq 1 36000); do
      [[ -z $pid && -f $dir/postmaster.pid ]] && pid=$(head -1 "$dir/postmaster.pid") && PG_PIDS[idx]=$pid
      state=$(psql_at "$port" "SELECT pg_is_in_recovery()" 2>/dev/null) || state=""
      [[ $state == f ]] && break
      if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then
        tail -n 20 "$dir.log" >&9
        die "$op $tool: the restored server stopped during recovery"
      fi
      sleep 0.05
    done
    t1=$(date +%s%N)
    [[ $state == f ]] || die "$op $tool: recovery did not end"
    got=$(psql_at "$port" "SELECT count(*) || '/' || sum(abalance) FROM pgbench_accounts")/$(psql_at "$port" "SELECT count(*) FROM walbench_bulk")
    [[ $got == "$EXPECT" ]] || die "$op $tool: restored data $got, expected $EXPECT (recovery stopped early?)"
    record "$op" "$tool" $(((t1 - t0) / 1000000)) ""
    # The archive recovery alone, from the server log: "starting archive recovery" to "archive
    # recovery complete" (leaves out the start-up's fsync of the data directory and the
    # end-of-recovery checkpoint, the same for every variant).
    record "${op}_log" "$tool" "$(awk '/starting archive recovery|archive recovery complete/ {print $2}' "$dir.log" |
      $PY -c 'import sys; t = [sum(float(x) * m for x, m in zip(l.split(":"), (3600, 60, 1))) for l in sys.stdin]; print(round((t[-1] - t[0]) * 1000) if len(t) >= 2 else "")')" ""
    record_count "$op" "$tool" restored_segments "$(grep -c 'restored log file' "$dir.log" || true)"
    log "  $op $tool: $(((t1 - t0) / 1000000)) ms ($(grep -c 'restored log file' "$dir.log" || true) segments through restore_command)"
    stop_pg "$pid"
    cp "$dir.log" "$WORK/out/$op-$tool-$ITER.pg.log"
    wait_strays 60
    rm -rf "$dir" "$dir.log"
  }
  new_dir() {
    rm -rf "$1" && install -d -m 700 -o postgres -g postgres "$1"
  }
  drctl_variant() { # variant (prefetch|sync)
    local dir=$B/restore/drctl-$1
    new_dir "$dir"
    rm -rf "$B/spool-get" && as_pg mkdir -p "$B/spool-get"
    timed "restore_$1" drctl "$WORK/bin/drctl" --config "$B/drctl-$1.toml" restore --no-progress --pgdata "$dir"
    grep -q "drctl-$1.toml.* wal get" "$dir/postgresql.auto.conf" || die "drctl restore wrote no restore_command"
    replay "replay_$1" drctl "$dir"
  }
  pgbr_variant() { # variant (async|sync)
    local dir=$B/restore/pgbr-$1
    new_dir "$dir"
    rm -rf "$B/pgbr-spool" && as_pg mkdir -p "$B/pgbr-spool"
    timed "restore_$1" pgbackrest pgbackrest "--config=$B/pgbr-$1.conf" --stanza=bench "--pg1-path=$dir" restore
    grep -q "pgbr-$1.conf.*archive-get" "$dir/postgresql.auto.conf" || die "pgbackrest restore wrote no restore_command"
    replay "replay_$1" pgbackrest "$dir"
  }
  limit_variant() { # cp|pg_wal
    local dir=$B/restore/limit-$1
    new_dir "$dir"
    as_pg "$WORK/bin/drctl" --config "$B/drctl-sync.toml" restore --no-progress --pgdata "$dir" >/dev/null
    if [[ $1 == cp ]]; then
      echo "restore_command = 'cp $B/walcopy/%f %p'" >>"$dir/postgresql.auto.conf"
    else
      (cd "$B/walcopy" && seg_names . | xargs cp -t "$dir/pg_wal/") && chown -R postgres: "$dir/pg_wal"
      echo "restore_command = '/bin/false'" >>"$dir/postgresql.auto.conf"
    fi
    replay "limit_$1" limit "$dir"
  }
  for ITER in $(seq 1 "$N"); do
    log "replay, iteration $ITER of $N"
    alternate "drctl_variant prefetch" "pgbr_variant async"
    alternate "drctl_variant sync" "pgbr_variant sync"
    limit_variant cp
    limit_variant pg_wal
  done
  ITER=0
fi

# --- the tables -----------------------------------------------------------------------------
{
  echo "# drctl $("$WORK/bin/drctl" --version 2>/dev/null | awk '{print $2}') vs $(pgbackrest version), PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}')"
  echo "# SEGS=$SEGS REPLAY_SEGS=$REPLAY_SEGS SCALE=$SCALE N=$N PARTS='$PARTS' REPOS='$REPOS'; $(nproc) cores; $(date -u +%FT%TZ)"
  $PY - "$RESULTS" "$COUNTS" <<'PYEOF'
import csv, statistics, sys
from collections import defaultdict

times = defaultdict(dict)   # (op, tool) -> {iter: s}
cpu = defaultdict(dict)
for r in csv.DictReader(open(sys.argv[1]), delimiter="\t"):
    if r["ms"]:
        times[(r["op"], r["tool"])][int(r["iter"])] = int(r["ms"]) / 1000.0
    if r["cpu_ms"]:
        cpu[(r["op"], r["tool"])][int(r["iter"])] = int(r["cpu_ms"]) / 1000.0
counts = defaultdict(dict)
for r in csv.DictReader(open(sys.argv[2]), delimiter="\t"):
    try:
        counts[(r["op"], r["tool"], r["key"])][int(r["iter"])] = float(r["value"])
    except ValueError:
        pass

def med(d):
    return statistics.median(d.values()) if d else None
def ratios(num, den):
    return [num[i] / den[i] for i in sorted(num) if i in den and den[i] > 0]
def mr(num, den):
    rs = ratios(num, den)
    return statistics.median(rs) if rs else None
def rtext(rs):
    return f"{statistics.median(rs):.2f} ({min(rs):.2f}-{max(rs):.2f})" if rs else ""
def s(x):
    return "" if x is None else f"{x:.2f}"
t = lambda op, tool: times.get((op, tool), {})
c = lambda op, tool, key: counts.get((op, tool, key), {})
def verdict(ok):
    return "n/a" if ok is None else ("MET" if ok else "NOT MET")

nseg = med(c("setup", "segments", "count"))
if nseg:
    print()
    print(f"Archiving {nseg:.0f} segments, one process per segment in order (emulated archiver); "
          "fresh repository / stanza per run; zstd:3 + encryption on both. Speedup = "
          "pgBackRest time / drctl time, median (min-max) of per-iteration ratios.")
    print()
    print("| Mode | drctl s | pgBackRest s | drctl seg/s | pgBackRest seg/s | speedup | "
          "drctl CPU s | pgBackRest CPU s | drctl stored MB | pgBackRest stored MB |")
    print("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for label, op in [("sync (drctl wal push / archive-push)", "push_sync"),
                      ("async (drctl async, jobs 2 / archive-async, process-max 2)", "push_async"),
                      ("sync, Swift (S3 over TLS)", "push_sync_swift"),
                      ("async, Swift (S3 over TLS)", "push_async_swift")]:
        d, p = t(op, "drctl"), t(op, "pgbackrest")
        if not d and not p:
            continue
        rate = lambda x: "" if not x else f"{nseg / med(x):.1f}"
        mb = lambda x: "" if not x else f"{med(x) / 1e6:.1f}"
        print(f"| {label} | {s(med(d))} | {s(med(p))} | {rate(d)} | {rate(p)} "
              f"| {rtext(ratios(p, d))} | {s(med(cpu.get((op, 'drctl'), {})))} "
              f"| {s(med(cpu.get((op, 'pgbackrest'), {})))} "
              f"| {mb(c(op, 'drctl', 'repo_bytes'))} | {mb(c(op, 'pgbackrest', 'repo_bytes'))} |")
    lz, lc = t("limit_zstd", "zstd"), t("limit_cp", "cp")
    print()
    print("| Limit | s | seg/s | drctl sync / limit | drctl async / limit | pgBackRest async / limit |")
    print("|---|--:|--:|--:|--:|--:|")
    lp = t("limit_zstd_p2", "zstd")
    for label, l in [("zstd -3 -T2 of the same segments (one stream)", lz),
                     ("zstd -3 of the same segments, 2 processes (half the files each)", lp),
                     ("the emulated archiver with archive_command = cp (no fsync)", lc),
                     ("the emulated archiver with archive_command = /bin/true (its own cost)",
                      t("limit_true", "true")),
                     ("the emulated archiver with archive_command = zstd -3 -c %p >/dev/null "
                      "(one compressing process per segment)", t("limit_zstd_proc", "zstd"))]:
        if l:
            print(f"| {label} | {s(med(l))} | {nseg / med(l):.1f} "
                  f"| {rtext(ratios(t('push_sync', 'drctl'), l))} "
                  f"| {rtext(ratios(t('push_async', 'drctl'), l))} "
                  f"| {rtext(ratios(t('push_async', 'pgbackrest'), l))} |")
    zb = med(c("setup", "segments", "zstd3_bytes"))
    if zb:
        print(f"\nzstd -3 output of the segments: {zb / 1e6:.1f} MB "
              f"({nseg * 16777216 / zb:.1f}x smaller).")

if t("replay_prefetch", "drctl") or t("replay_async", "pgbackrest"):
    wb = med(c("setup", "replay", "wal_bytes"))
    print()
    print(f"Replay: {wb / 16777216:.1f} segments of workload WAL after the backups "
          "(plus the backups' own). Replay = pg_ctl start to pg_is_in_recovery() = false; "
          "restore = the tool's restore command. Speedup = pgBackRest / drctl per iteration.")
    print()
    print("| Variant | drctl replay s | pgBackRest replay s | speedup | segments via restore_command drctl / pgBR |")
    print("|---|--:|--:|--:|--:|")
    seg = lambda op, tool: s(med(c(op, tool, "restored_segments"))).replace(".00", "")
    for label, dop, pop in [
            ("drctl prefetch 8, jobs 2 / pgBackRest archive-async, process-max 2", "replay_prefetch", "replay_async"),
            ("sync: drctl prefetch 0 / pgBackRest archive-async=n", "replay_sync", "replay_sync"),
            ("drctl prefetch 8 / pgBackRest sync", "replay_prefetch", "replay_sync"),
            ("drctl sync / pgBackRest async", "replay_sync", "replay_async")]:
        d, p = t(dop, "drctl"), t(pop, "pgbackrest")
        print(f"| {label} | {s(med(d))} | {s(med(p))} | {rtext(ratios(p, d))} "
              f"| {seg(dop, 'drctl')} / {seg(pop, 'pgbackrest')} |")
    print()
    print("Archive recovery alone, from the server log (\"starting archive recovery\" to "
          "\"archive recovery complete\"; without the start-up fsync of the data directory and "
          "the end-of-recovery checkpoint):")
    print()
    print("| Variant | drctl s | pgBackRest s | speedup |")
    print("|---|--:|--:|--:|")
    for label, dop, pop in [("prefetch / archive-async", "replay_prefetch_log", "replay_async_log"),
                            ("sync / sync", "replay_sync_log", "replay_sync_log")]:
        d, p = t(dop, "drctl"), t(pop, "pgbackrest")
        print(f"| {label} | {s(med(d))} | {s(med(p))} | {rtext(ratios(p, d))} |")
    for op in ("limit_cp_log", "limit_pg_wal_log"):
        l = t(op, "limit")
        if l:
            print(f"| limit: {op[6:-4]} | {s(med(l))} | | |")
    print()
    print("| Restore (before the replay) | drctl s | pgBackRest s | speedup |")
    print("|---|--:|--:|--:|")
    for label, dop, pop in [("for the prefetch / async replay", "restore_prefetch", "restore_async"),
                            ("for the sync replay", "restore_sync", "restore_sync")]:
        d, p = t(dop, "drctl"), t(pop, "pgbackrest")
        print(f"| {label} | {s(med(d))} | {s(med(p))} | {rtext(ratios(p, d))} |")
    print()
    print("| Limit | replay s | drctl prefetch / limit | drctl sync / limit | pgBackRest async / limit | pgBackRest sync / limit |")
    print("|---|--:|--:|--:|--:|--:|")
    for label, op in [("restore_command = cp from a local directory", "limit_cp"),
                      ("WAL already in pg_wal (restore_command = /bin/false)", "limit_pg_wal")]:
        l = t(op, "limit")
        if l:
            print(f"| {label} | {s(med(l))} | {rtext(ratios(t('replay_prefetch', 'drctl'), l))} "
                  f"| {rtext(ratios(t('replay_sync', 'drctl'), l))} "
                  f"| {rtext(ratios(t('replay_async', 'pgbackrest'), l))} "
                  f"| {rtext(ratios(t('replay_sync', 'pgbackrest'), l))} |")

print()
print("Targets (issue 5), medians of per-iteration ratios:")
for label, op, goal in [("archiving sync >= 1.5x pgBackRest", "push_sync", 1.5),
                        ("archiving async >= 1.5x pgBackRest", "push_async", 1.5),
                        ("archiving sync to Swift >= 1.5x pgBackRest", "push_sync_swift", 1.5),
                        ("archiving async to Swift >= 1.5x pgBackRest", "push_async_swift", 1.5)]:
    r = mr(t(op, "pgbackrest"), t(op, "drctl"))
    print(f"- {verdict(None if r is None else r >= goal)}: {label}: {s(r)}x")
r = mr(t("replay_async", "pgbackrest"), t("replay_prefetch", "drctl"))
print(f"- {verdict(None if r is None else r >= 1.0)}: replay (prefetch vs archive-async) at least "
      f"equal: {s(r)}x")
r = mr(t("replay_sync", "pgbackrest"), t("replay_sync", "drctl"))
print(f"- {verdict(None if r is None else r >= 1.0)}: replay sync vs sync at least equal "
      f"(informational): {s(r)}x")
PYEOF
} | tee "$WORK/out/table.md"
