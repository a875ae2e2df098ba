#!/usr/bin/env bash
# The CPU demo, offline: rule-convert data/demo/, train Lumos-I plan + ground modules (LoRA on
# models/smollm2-135m-instruct), evaluate on the held-out demo tasks, write results/demo/<run>/metrics.json
# and report.html. ~10 min on an idle 2-core machine; a second run reuses finished stages.
# Usage: ./scripts/demo.sh [--run NAME] [--steps N] [--domains maths complex_qa] [--max_eval N] [--force] ...
#        (all flags: ./scripts/demo.sh --help). Env: PYTHON (default .venv/bin/python).
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 DS_ACCELERATOR=cpu TOKENIZERS_PARALLELISM=false
PY=${PYTHON:-.venv/bin/python}; [[ -x $PY ]] || PY=python3
exec "$PY" -m lumos.demo "$@"
