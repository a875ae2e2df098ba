#!/usr/bin/env bash
# GSM8K eval with the original launcher's settings (lumos_onetime, first 10 examples, batch 8).
# Usage: scripts/eval/gsm.sh [--flag value ...]   (flags are forwarded to python -m eval.gsm.run_eval)
# Env: MODEL_DIR (root of lumos_* folders, or one model folder), DATA_DIR (else $LUMOS_DATA_DIR, else
# data/eval/gsm/), FORMULATION, N, BATCH, BACKEND, SAVE_DIR, PYTHON.
set -euo pipefail
cd "$(dirname "$0")/../.."
FORMULATION=${FORMULATION:-lumos_onetime}; MODEL_DIR=${MODEL_DIR:-models/smollm2-135m-instruct}
DATA=(); [ -n "${DATA_DIR:-}" ] && DATA=(--data_dir "$DATA_DIR")
"${PYTHON:-.venv/bin/python}" -m eval.gsm.run_eval "${DATA[@]}" --model_name_or_path "$MODEL_DIR" \
  --max_num_examples "${N:-10}" --eval_batch_size "${BATCH:-8}" --formulation "$FORMULATION" \
  --backend "${BACKEND:-hf}" --save_dir "${SAVE_DIR:-results/gsm/$FORMULATION}" "$@"
