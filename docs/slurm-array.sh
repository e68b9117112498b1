#!/bin/bash
# dcbench sweep as a Slurm job array: one task per GPU, no coordinator.
#
#   sbatch --array=0-7 docs/slurm-array.sh table4            # 8 shards of the Table 4 grid
#   sbatch --array=0-7 docs/slurm-array.sh table4,table5     # union of presets (shared runs once)
#   SPEC=my-sweep.yaml sbatch --array=0-3 docs/slurm-array.sh
#
# Every task runs `dcbench sweep`, which reads its shard from SLURM_ARRAY_TASK_ID,
# SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_COUNT (use a contiguous array: --array=0-N, a
# "%k" throttle is fine, a ":step" is refused) and takes the runs whose condensed set hashes
# to it. All tasks write to one results folder on a shared filesystem, each to its own file
# (records/shard-<i>-of-<n>.jsonl), so there are no write races. A task that is killed
# (timeout, preemption: Slurm sends SIGTERM first, dcbench stops after the run in progress
# and keeps every finished one) resumes when it is run again: requeue it, or submit the same
# array again — finished runs are skipped.
#
# When everything is done:  dcbench report --results "$RESULTS" --out "$RESULTS/report"

#SBATCH --job-name=dcbench-sweep
#SBATCH --gres=gpu:1
#SBATCH --cpus-per-task=8
#SBATCH --mem=64G
#SBATCH --time=24:00:00
#SBATCH --requeue
#SBATCH --signal=TERM@120
#SBATCH --output=logs/dcbench-%A_%a.out

set -euo pipefail

PRESET=${1:-table4}
RESULTS=${RESULTS:-$HOME/dcbench-results}      # on a filesystem every node mounts
DCBENCH=${DCBENCH:-dcbench}                      # go build -o dcbench ./cmd/dcbench
export DCBENCH_DATA=${DCBENCH_DATA:-$HOME/.cache/dcbench}  # datasets, downloaded once

# The PJRT CUDA plugin, e.g. the one inside a JAX install (see README, "GPU").
if [[ -z "${GOMLX_BACKEND:-}" && -n "${PJRT_PLUGIN:-}" ]]; then
  export GOMLX_BACKEND="xla:$PJRT_PLUGIN"
fi

if [[ -n "${SPEC:-}" ]]; then
  WHAT=(--spec "$SPEC")
else
  WHAT=(--preset "$PRESET")
fi

# Slurm already restricts CUDA_VISIBLE_DEVICES to the task's GPU; dcbench records it. On a
# node where several tasks share GPUs without --gres, pass --device "$SLURM_LOCALID".
# exec: the SIGTERM of a timeout or preemption reaches dcbench itself.
exec "$DCBENCH" sweep "${WHAT[@]}" --results "$RESULTS" --quiet
