#!/usr/bin/env bash
# The main job, interim version: generate the synthetic KITTI data, train
# PointPillars on it on CPU and evaluate it with mmdet3d's KittiMetric.
# (Becomes teacher / student / student+PointDistiller when that lands.)
#
# Usage: bash tools/demo.sh [OUT_DIR]   (default work_dirs/demo)
# Env:   DEMO_EPOCHS (default 6), FORCE=1 retrains even when a checkpoint
#        exists, PYTHON (default .venv/bin/python).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUT="${1:-work_dirs/demo}"
PY="${PYTHON:-.venv/bin/python}"
EPOCHS="${DEMO_EPOCHS:-6}"
DATA=data/synthetic_kitti
CFG=configs/pointpillars/pointpillars_hv-secfpn_1xb2-cpu_synthetic-kitti-3d-3class.py
start=$SECONDS

log() { printf '[demo %(%H:%M:%S)T] %s\n' -1 "$*"; }

if [[ ! -f "$DATA/kitti_infos_val.pkl" ]]; then
  log "generating synthetic KITTI data in $DATA"
  "$PY" tools/create_synthetic_data.py kitti --out-dir "$DATA" --seed 0
else
  log "reusing synthetic KITTI data in $DATA"
fi

CKPT="$OUT/pointpillars/epoch_${EPOCHS}.pth"
if [[ -f "$CKPT" && "${FORCE:-0}" != 1 ]]; then
  log "reusing $CKPT (FORCE=1 to retrain)"
else
  log "training PointPillars for $EPOCHS epochs on CPU"
  "$PY" tools/train.py "$CFG" --work-dir "$OUT/pointpillars" \
    --cfg-options "train_cfg.max_epochs=$EPOCHS" \
    "train_cfg.val_interval=$EPOCHS" \
    "default_hooks.checkpoint.interval=$EPOCHS"
fi

log "evaluating with mmdet3d's KittiMetric"
"$PY" tools/test.py "$CFG" "$CKPT" --work-dir "$OUT/pointpillars/test" \
  2>&1 | tee "$OUT/pointpillars/test.log" | grep -E "AP40|Overall" || true
log "done in $((SECONDS - start)) s; logs and checkpoints in $OUT"
