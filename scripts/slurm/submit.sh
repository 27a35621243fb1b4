#!/bin/bash
# Submits a Visual-CCC batch as a SLURM job array plus the merge job that waits for it.
#
#   scripts/slurm/submit.sh --shards N [--cpus C] [--only I,J,..] [--sbatch "OPTS"] \
#       INPUT OUT [visual-ccc batch options]
#
# --shards N   number of shards (array tasks)
# --cpus C     CPUs per task, i.e. images processed at once per node (default 1)
# --only LIST  resubmit only these shards (e.g. after a task was cancelled or timed out)
# --sbatch S   extra sbatch options for both jobs (partition, account, time limit, ...)
#
# Prints "ARRAY_JOB_ID MERGE_JOB_ID". The merge runs only if every task succeeded
# (--dependency=afterok) and is cancelled if one fails; resubmitting the failed shards
# with --only runs a new merge.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
shards= cpus=1 only= extra=
while [ $# -gt 0 ]; do
    case $1 in
        --shards) shards=$2; shift 2 ;;
        --cpus) cpus=$2; shift 2 ;;
        --only) only=$2; shift 2 ;;
        --sbatch) extra=$2; shift 2 ;;
        *) break ;;
    esac
done
if [ -z "$shards" ] || [ $# -lt 2 ]; then
    sed -n '2,15p' "$0" >&2
    exit 2
fi
input=$(realpath "$1")
out=$(realpath -m "$2")
shift 2
mkdir -p "$out/logs"
array=${only:-0-$((shards - 1))}
# shellcheck disable=SC2086 # $extra holds several options
array_job=$(VISUAL_CCC_SHARDS=$shards sbatch --parsable $extra --array="$array" \
    --cpus-per-task="$cpus" --output="$out/logs/%x-%A_%a.out" \
    "$here/visual-ccc-array.sbatch" "$input" "$out" "$@")
array_job=${array_job%%;*}
# shellcheck disable=SC2086
merge_job=$(sbatch --parsable $extra --dependency="afterok:$array_job" --kill-on-invalid-dep=yes \
    --output="$out/logs/%x-%j.out" "$here/visual-ccc-merge.sbatch" "$out")
echo "$array_job ${merge_job%%;*}"
