#!/usr/bin/env bash
# WebShop eval of the unified modules with the original launcher's settings (Lumos-I, 500 test goals, batch 8).
# Usage: scripts/eval/webshop.sh [--flag value ...]   (forwarded to python -m eval.webshop.run_eval)
# Env: MODEL_DIR (root of lumos_unified_* folders, or one model folder), DATA_DIR (else $LUMOS_DATA_DIR), N, BATCH,
# GOALS (auto | human | synthetic), BACKEND, SAVE_DIR, PYTHON.
set -euo pipefail
cd "$(dirname "$0")/../.."
MODEL_DIR=${MODEL_DIR:-models/smollm2-135m-instruct}
DATA=(); [ -n "${DATA_DIR:-}" ] && DATA=(--data_dir "$DATA_DIR")
"${PYTHON:-.venv/bin/python}" -m eval.webshop.run_eval "${DATA[@]}" --model_name_or_path "$MODEL_DIR" \
  --max_num_examples "${N:-500}" --eval_batch_size "${BATCH:-8}" --formulation lumos_iterative \
  --goals "${GOALS:-auto}" --backend "${BACKEND:-hf}" --save_dir "${SAVE_DIR:-results/webshop/lumos_iterative}" "$@"
