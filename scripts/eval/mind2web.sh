#!/usr/bin/env bash
# Mind2Web eval (Lumos-I, teacher-forced over the gold history) with the original launcher's settings.
# Usage: scripts/eval/mind2web.sh [--flag value ...]   (forwarded to python -m eval.mind2web.run_eval)
# Env: MODEL_DIR (root of lumos_web_agent_* folders, or one model folder), DATA_DIR (else $LUMOS_DATA_DIR),
# SPLIT (test_domain | test_task | test_website), RANKER (auto | mindact | dense | bm25), CANDIDATES (ranked | original),
# N, BATCH, BACKEND, SAVE_DIR, PYTHON.
set -euo pipefail
cd "$(dirname "$0")/../.."
MODEL_DIR=${MODEL_DIR:-models/smollm2-135m-instruct}; SPLIT=${SPLIT:-test_domain}
DATA=(); [ -n "${DATA_DIR:-}" ] && DATA=(--data_dir "$DATA_DIR")
"${PYTHON:-.venv/bin/python}" -m eval.mind2web.run_eval "${DATA[@]}" --model_name_or_path "$MODEL_DIR" --split "$SPLIT" \
  --ranker "${RANKER:-auto}" --candidates "${CANDIDATES:-ranked}" --max_num_examples "${N:-10}" \
  --eval_batch_size "${BATCH:-16}" --formulation lumos_iterative --backend "${BACKEND:-hf}" \
  --save_dir "${SAVE_DIR:-results/mind2web/$SPLIT}" "$@"
