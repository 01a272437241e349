#!/usr/bin/env bash
# Create the distill3d environment in .venv (idempotent).
#
# Usage: bash tools/setup_env.sh [VENV_DIR] [STACK]
#
# STACK is "pinned" (default: requirements/*.txt, torch 2.13 + numpy 2) or
# "compat" (requirements/compat/: torch 2.1 + numpy 1.23, the stack most
# mmdet3d users run; `make test-compat` uses it). Each stack has its own
# build tools and constraints and caches its own mmcv wheel (mmcv's compiled
# ops are bound to the torch they were built against).
#
# What it does (facts behind each step: ../shared/SETUP.md):
#   1. creates VENV_DIR (default: .venv in the repo root) with the pinned
#      build tools (setuptools>=77.0.3,<82 keeps pkg_resources importable);
#   2. installs torch 2.13.0 (CPU wheel found through pip's find-links);
#   3. builds mmcv 2.1.0 with its compiled ops once (--no-build-isolation so
#      torch is importable during the build, optimised flags, no debug info)
#      and caches the wheel in $DISTILL3D_CACHE (default
#      ~/.cache/distill3d/wheels), reusing it on later runs;
#   4. installs mmengine, mmdet, mmdet3d (without its heavy declared deps, with
#      the modules its import really needs), spconv, and the test tools, all
#      pinned by requirements/constraints.txt;
#   5. installs distill3d in editable mode and checks that mmcv's ops exist.
# A marker file records a hash of this script; a complete venv whose marker
# matches is left alone, so re-running costs about a second.
#
# GPU machines (DISTILL3D_DEVICE=auto, the default, picks "cuda" when
# `nvidia-smi -L` lists a GPU and nvcc is found; DISTILL3D_DEVICE=cuda or
# cpu forces it): torch must be a CUDA build (PyPI's Linux x86_64 wheels
# are; DISTILL3D_TORCH_INDEX_URL adds an index such as
# https://download.pytorch.org/whl/cu126), mmcv is built with FORCE_CUDA=1
# for the visible GPUs' architectures (TORCH_CUDA_ARCH_LIST, from
# `nvidia-smi --query-gpu=compute_cap`, or as set) and cached per
# architecture, and spconv-cu120 (CUDA >= 12 drivers) is kept. The final
# check runs an mmcv op on the GPU. DISTILL3D_SETUP_DRY_RUN=1 prints the
# plan and exits.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${1:-$ROOT/.venv}"
STACK="${2:-pinned}"
CACHE="${DISTILL3D_CACHE:-$HOME/.cache/distill3d/wheels}"
PYTHON="${PYTHON:-python3}"
MARKER="$VENV/.distill3d-env"
case "$STACK" in
  pinned) REQ="$ROOT/requirements" ;;
  compat) REQ="$ROOT/requirements/compat"; CACHE="$CACHE/compat" ;;
  *) echo "setup_env.sh: unknown stack '$STACK' (pinned or compat)" >&2
     exit 2 ;;
esac
log() { printf '[setup_env %(%H:%M:%S)T] %s\n' -1 "$*"; }

DEVICE="${DISTILL3D_DEVICE:-auto}"
if [[ "$DEVICE" == auto ]]; then
  DEVICE=cpu
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1 \
      && { command -v nvcc >/dev/null 2>&1 \
           || [[ -x "${CUDA_HOME:-/usr/local/cuda}/bin/nvcc" ]]; }; then
    DEVICE=cuda
  fi
fi
case "$DEVICE" in
  cpu) FORCE_CUDA=0; ARCHS="" ;;
  cuda)
    FORCE_CUDA=1
    ARCHS="${TORCH_CUDA_ARCH_LIST:-}"
    if [[ -z "$ARCHS" ]] && command -v nvidia-smi >/dev/null 2>&1; then
      ARCHS="$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader \
               2>/dev/null | sort -u | paste -sd';' || true)"
    fi
    if [[ -z "$ARCHS" ]]; then
      echo "setup_env.sh: DISTILL3D_DEVICE=cuda but no GPU architecture: " \
           "set TORCH_CUDA_ARCH_LIST (e.g. 8.6 or '8.0;9.0')" >&2
      exit 2
    fi
    CACHE="$CACHE/cuda-sm$(echo "$ARCHS" | tr -d '.' | tr ';' '-')" ;;
  *) echo "setup_env.sh: DISTILL3D_DEVICE must be auto, cpu or cuda" >&2
     exit 2 ;;
esac
STAMP="$( (cat "$ROOT/tools/setup_env.sh" "$ROOT/requirements/"*.txt \
          "$REQ/"*.txt; echo "$DEVICE $ARCHS") | sha256sum | cut -c1-16)"
TORCH_INDEX=()
if [[ -n "${DISTILL3D_TORCH_INDEX_URL:-}" ]]; then
  TORCH_INDEX=(--extra-index-url "$DISTILL3D_TORCH_INDEX_URL")
fi

if [[ "${DISTILL3D_SETUP_DRY_RUN:-0}" == 1 ]]; then
  echo "venv=$VENV stack=$STACK device=$DEVICE FORCE_CUDA=$FORCE_CUDA" \
       "TORCH_CUDA_ARCH_LIST=$ARCHS cache=$CACHE requirements=$REQ" \
       "torch_index=${DISTILL3D_TORCH_INDEX_URL:-pip default}"
  exit 0
fi

if [[ -f "$MARKER" && "$(cat "$MARKER")" == "$STAMP" ]]; then
  log "environment $VENV is up to date"
  exit 0
fi

start=$SECONDS
if [[ ! -x "$VENV/bin/python" ]]; then
  log "creating virtual environment $VENV"
  "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check)

log "build tools and torch ($DEVICE)"
"${PIP[@]}" install -q -r "$REQ/build.txt" ${TORCH_INDEX[@]+"${TORCH_INDEX[@]}"}
if [[ "$DEVICE" == cuda ]] && \
    ! "$PY" -c 'import sys, torch; sys.exit(torch.version.cuda is None)'; then
  echo "setup_env.sh: the torch pip installed is a CPU build; on this GPU " \
       "machine install a CUDA build of the same version, e.g." \
       "DISTILL3D_TORCH_INDEX_URL=https://download.pytorch.org/whl/cu126" \
       "and '$PY -m pip install --force-reinstall --no-deps torch==<version>" \
       "--index-url \$DISTILL3D_TORCH_INDEX_URL', then rerun" >&2
  exit 1
fi

mkdir -p "$CACHE"
MMCV_WHL="$(ls "$CACHE"/mmcv-2.1.0-*.whl 2>/dev/null | head -n1 || true)"
if [[ -z "$MMCV_WHL" ]]; then
  log "building mmcv 2.1.0 with ops against torch $("$PY" -c \
    'import torch; print(torch.__version__)') (one time, several minutes)"
  tmp="$(mktemp -d)"
  # CFLAGS replaces Python's default flags, so -O3/-DNDEBUG are restated.
  MMCV_WITH_OPS=1 FORCE_CUDA="$FORCE_CUDA" \
    TORCH_CUDA_ARCH_LIST="$ARCHS" MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
    CFLAGS="-DNDEBUG -O3 -fwrapv -g0" \
    "${PIP[@]}" wheel -q --no-deps --no-build-isolation --no-cache-dir \
      --no-binary mmcv -w "$tmp" "mmcv==2.1.0"
  mv "$tmp"/mmcv-2.1.0-*.whl "$CACHE"/
  rm -rf "$tmp"
  MMCV_WHL="$(ls "$CACHE"/mmcv-2.1.0-*.whl | head -n1)"
else
  log "reusing cached mmcv wheel $MMCV_WHL"
fi

log "mmcv, mmengine, mmdet and runtime deps"
"${PIP[@]}" install -q "$MMCV_WHL" -r "$ROOT/requirements/runtime.txt" \
  -c "$REQ/constraints.txt"
log "mmdet3d and its import-time deps (without its declared heavy deps)"
"${PIP[@]}" install -q --no-deps -r "$ROOT/requirements/nodeps.txt" \
  -c "$REQ/constraints.txt" 2>&1 \
  | grep -v "dependency resolver\|which is not installed\|but you have" || true
log "test tools and distill3d (editable)"
"${PIP[@]}" install -q -r "$ROOT/requirements/tests.txt" \
  -c "$REQ/constraints.txt"
"${PIP[@]}" install -q --no-deps --no-build-isolation -e "$ROOT"

log "checking mmcv ops and imports"
"$PY" - <<'PYEOF'
from mmcv.utils.ext_loader import check_ops_exist
assert check_ops_exist(), 'mmcv was installed without its compiled ops'
import mmdet3d.models, mmdet3d.datasets, mmdet3d.evaluation  # noqa
import spconv.pytorch  # noqa
import distill3d  # noqa
print('ok: mmcv ops present, mmdet3d/spconv/distill3d import')
PYEOF
if [[ "$DEVICE" == cuda ]]; then
  "$PY" - <<'PYEOF'
import torch
from mmcv.ops import nms
assert torch.cuda.is_available(), 'torch sees no GPU'
boxes = torch.tensor([[0., 0., 2., 2.], [0.1, 0.1, 2., 2.]], device='cuda')
keep = nms(boxes, torch.tensor([0.9, 0.8], device='cuda'), 0.5)[1]
assert keep.tolist() == [0], keep
print('ok: mmcv CUDA ops run on', torch.cuda.get_device_name(0))
PYEOF
fi
echo "$STAMP" > "$MARKER"
log "environment ready in $((SECONDS - start)) s"
