#!/bin/bash
# A real SLURM cluster on this machine: munged, slurmctld and slurmd on localhost (one
# node, 2 CPUs, no cgroups), then the scripts of scripts/slurm/ on ~30 synthetic images:
#   1. the job array (3 shards) and its merge job give the summary of one unsharded run;
#   2. a second submission with one task cancelled mid-way, resubmitted with --only,
#      lists every image exactly once.
# Installs slurm-wlm and munge from Debian if missing (needs root). Stops every daemon it
# started. VISUAL_CCC may name the binary; otherwise the debug build is made.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
limit=${SLURM_TEST_LIMIT_S:-400}

if [ "$(id -u)" -ne 0 ]; then
    echo "tests/slurm/run.sh: run as root (it installs packages and starts SLURM's daemons)" >&2
    exit 2
fi
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi

if [ -z "${VISUAL_CCC:-}" ]; then
    (cd "$repo" && cargo build -q -p visual-ccc-cli)
    VISUAL_CCC=${CARGO_TARGET_DIR:-$repo/target}/debug/visual-ccc
fi
export VISUAL_CCC
lib=$repo/build/onnxruntime/linux-x86_64/libonnxruntime.so.1.22.1
if [ -z "${ORT_DYLIB_PATH:-}" ] && [ -f "$lib" ]; then
    export ORT_DYLIB_PATH=$lib
fi

work=$(mktemp -d /tmp/vccc-slurm.XXXXXX)
pids=()
cleanup() {
    # Only the daemons this script started, by their process ids.
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null || true
    done
    if [ -z "${KEEP_SLURM_TEST:-}" ]; then rm -rf "$work"; else echo "kept $work"; fi
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*" >&2
    for log in "$work"/*.log "$work"/out*/logs/*; do
        [ -f "$log" ] && { echo "--- $log" >&2; tail -n 20 "$log" >&2; }
    done
    exit 1
}

# munge with its own key and socket, so a system munged is left alone.
mkdir -p "$work/munge" "$work/state" "$work/spool"
chmod 711 "$work/munge"
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$work/munge/munge.key"
socket=$work/munge/munge.socket
munged --force --foreground --key-file="$work/munge/munge.key" --socket="$socket" \
    --pid-file="$work/munge/munged.pid" --log-file="$work/munged.log" \
    --seed-file="$work/munge/seed" >"$work/munged.out" 2>&1 &
pids+=($!)

node=$(hostname -s)
port=$((20000 + RANDOM % 20000))
cat > "$work/slurm.conf" <<CONF
ClusterName=vccc-test
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
MinJobAge=600
NodeName=$node NodeAddr=127.0.0.1 CPUs=2 RealMemory=1000 State=UNKNOWN
PartitionName=test Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$work/slurm.conf
for _ in $(seq 50); do [ -S "$socket" ] && break; sleep 0.1; done
[ -S "$socket" ] || fail "munged did not start"
slurmctld -D -i -f "$SLURM_CONF" >"$work/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" >"$work/slurmd.out" 2>&1 &
pids+=($!)
for _ in $(seq 120); do
    state=$(sinfo -h -o %T 2>/dev/null || true)
    [ "$state" = idle ] && break
    sleep 0.5
done
[ "$state" = idle ] || fail "the node did not become idle (state '$state')"
echo "cluster up: node $node, 2 CPUs"

# ~30 synthetic micrographs; the reference is one unsharded local run.
images=$work/images
"$VISUAL_CCC" synth --class spheroid --out "$images/" --count 15 --width 48 >/dev/null
"$VISUAL_CCC" synth --class dendrite --out "$images/" --count 15 --width 48 >/dev/null
model=$repo/tests/fixtures/models/fixture-tiny.onnx
options=(--model "$model" --save-labels)
"$VISUAL_CCC" batch "$images" --out "$work/local" "${options[@]}" >/dev/null 2>&1 \
    || fail "the local run failed"
reference=$work/local/visual-ccc-summary.csv
[ "$(wc -l <"$reference")" -eq 31 ] || fail "the local run has $(wc -l <"$reference") lines"

wait_for() { # JOB...: waits until none of the jobs is queued or running
    local start=$SECONDS
    while [ -n "$(squeue -h -j "$(IFS=,; echo "$*")" 2>/dev/null)" ]; do
        [ $((SECONDS - start)) -lt "$limit" ] || fail "jobs $* still queued after ${limit}s"
        sleep 1
    done
}

data_rows() { # CSV: lines after the header, 0 when absent
    if [ -f "$1" ]; then echo $(($(wc -l <"$1") - 1)); else echo 0; fi
}

# 1. array + merge
read -r array merge < <("$repo/scripts/slurm/submit.sh" --shards 3 "$images" "$work/out1" "${options[@]}")
echo "submitted array $array and merge $merge"
wait_for "$array" "$merge"
[ -f "$work/out1/visual-ccc-summary.csv" ] || fail "the merge job wrote no summary"
cmp "$reference" "$work/out1/visual-ccc-summary.csv" || fail "merged summary differs from the unsharded run"
echo "ok: 3 shards merged by SLURM = the unsharded summary"

# 2. cancel task 1 mid-way, resubmit it
read -r array merge < <("$repo/scripts/slurm/submit.sh" --shards 3 "$images" "$work/out2" "${options[@]}")
part=$work/out2/parts/summary-1-of-3.csv
start=$SECONDS
while :; do
    rows=$(data_rows "$part")
    [ "$rows" -ge 2 ] && break
    [ $((SECONDS - start)) -lt "$limit" ] || fail "task 1 did not start"
    sleep 0.2
done
scancel "${array}_1"
wait_for "$array" "$merge"
rows=$(data_rows "$part")
[ "$rows" -lt 10 ] || fail "task 1 finished before it was cancelled"
[ ! -f "$work/out2/visual-ccc-summary.csv" ] || fail "the merge ran although task 1 was cancelled"
echo "cancelled task 1 after $rows of its 10 images"
"$VISUAL_CCC" merge "$work/out2" 2>"$work/refused.txt" && fail "merge accepted an unfinished shard"
grep -q "shard 1/3 is incomplete" "$work/refused.txt" || fail "merge's refusal: $(cat "$work/refused.txt")"
read -r array merge < <("$repo/scripts/slurm/submit.sh" --shards 3 --only 1 "$images" "$work/out2" "${options[@]}")
wait_for "$array" "$merge"
cmp "$reference" "$work/out2/visual-ccc-summary.csv" || fail "after the resubmission the summary differs"
duplicates=$(cut -d, -f1 "$work/out2/visual-ccc-summary.csv" | sort | uniq -d)
[ -z "$duplicates" ] || fail "listed twice: $duplicates"
leftovers=$(find "$work/out2" -name '.part-*')
[ -z "$leftovers" ] || fail "half-written files left: $leftovers"
[ "$(find "$work/out2/labels" -name '*.tif' | wc -l)" -eq 30 ] || fail "label images missing"
echo "ok: cancelled and resubmitted shard: every image once, nothing half-written"
echo "PASS tests/slurm/run.sh"
