#!/usr/bin/env bash
# HotpotQA eval with the original launcher's settings (lumos_iterative, first 1000 examples, batch 16).
# Usage: scripts/eval/hotpotqa.sh [--flag value ...]   (flags are forwarded to python -m eval.hotpotqa.run_eval)
# Env: MODEL_DIR (root of lumos_* folders, or one model folder), DATA_DIR (else $LUMOS_DATA_DIR, else
# data/eval/hotpotqa/), FORMULATION, N, BATCH, BACKEND, SAVE_DIR, PYTHON, CORPUS, QA_MODEL.
set -euo pipefail
cd "$(dirname "$0")/../.."
FORMULATION=${FORMULATION:-lumos_iterative}; MODEL_DIR=${MODEL_DIR:-models/smollm2-135m-instruct}
DATA=(); [ -n "${DATA_DIR:-}" ] && DATA=(--data_dir "$DATA_DIR")
"${PYTHON:-.venv/bin/python}" -m eval.hotpotqa.run_eval "${DATA[@]}" --model_name_or_path "$MODEL_DIR" \
  --max_num_examples "${N:-1000}" --eval_batch_size "${BATCH:-16}" --formulation "$FORMULATION" \
  --backend "${BACKEND:-hf}" --save_dir "${SAVE_DIR:-results/hotpotqa/$FORMULATION}" \
  --knowledge local --corpus "${CORPUS:-${LUMOS_DATA_DIR:-data/eval}/hotpotqa/ircot_dev_subsampled.jsonl}" --qa_model "${QA_MODEL:-$MODEL_DIR}" "$@"
