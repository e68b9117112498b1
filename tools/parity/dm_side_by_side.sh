#!/usr/bin/env bash
# DM side by side on CIFAR-10 (docs/parity.md): dcbench's DM and the reference main_DM.py
# settings (tools/parity/dm_reference.py driving the oracle's functions), IPC 10, the same
# initial real images, the same number of iterations; both sets evaluated with dcbench's
# evaluator (300 epochs, no augmentation, 3 runs, full test set).
#
#   tools/parity/dm_side_by_side.sh [WORKDIR]     # ITERATIONS=1000 SEED=0 by default
#
# Both runs checkpoint (dcbench every 25 iterations, the reference every 25), so an
# interrupted run picks up where it stopped when the script is run again; finished steps are
# skipped. Needs Debian's python3-torch, python3-torchvision, python3-scipy and the oracle
# (../shared/oracle, or DCBENCH_ORACLE). On 2 cores: dcbench ~2.7 s per iteration, the
# reference ~11.5 s.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${1:-$ROOT/results/dm-side-by-side}
ITERATIONS=${ITERATIONS:-1000}
SEED=${SEED:-0}
DATA=${DCBENCH_CIFAR10:-$ROOT/../shared/datasets/cifar10-jpeg.tar.gz}
PY=${PYTHON:-/usr/bin/python3}
export GOMLX_NO_AUTO_INSTALL=1
mkdir -p "$WORK"
DCB=$WORK/dcbench
(cd "$ROOT" && go build -o "$DCB" ./cmd/dcbench)
D=(--dataset cifar10 --data "$DATA")

# 1. The real training set and the initial synthetic set, as dcbench loads and draws them.
[ -f "$WORK/train.dcb" ] || "$DCB" condense "${D[@]}" --method random --ipc 5000 --seed "$SEED" --quiet --out "$WORK/train.dcb"
[ -f "$WORK/init.dcb" ] || "$DCB" condense "${D[@]}" --method dm --ipc 10 --seed "$SEED" --param iterations=0 --quiet --out "$WORK/init.dcb"

# 2. dcbench's DM (its own initialisation: the same images as init.dcb, same seed).
OURS=$WORK/dcbench_dm_it$ITERATIONS.dcb
[ -f "$OURS" ] || "$DCB" condense "${D[@]}" --method dm --ipc 10 --seed "$SEED" \
	--param iterations="$ITERATIONS" --param checkpoint="$WORK/dcbench.ckpt" --param checkpoint_every=25 --out "$OURS"

# 3. The reference.
REF=$WORK/reference_dm_it$ITERATIONS.dcb
[ -f "$REF" ] || "$PY" -W ignore "$ROOT/tools/parity/dm_reference.py" --train "$WORK/train.dcb" --init "$WORK/init.dcb" \
	--iterations "$ITERATIONS" --seed "$SEED" --threads "$(nproc)" --real-no-grad --checkpoint "$WORK/reference.ckpt" --out "$REF"

# 4. Both evaluated alike (and the initial set, for scale).
for s in "$WORK/init.dcb" "$OURS" "$REF"; do
	"$DCB" eval "${D[@]}" --set "$s" --epochs 300 --num-eval 3 --augment none --seed "$SEED" --results "$WORK/results.jsonl"
done
