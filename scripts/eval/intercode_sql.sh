#!/usr/bin/env bash
# InterCode-SQL eval of the unified modules (Lumos-I). Usage: scripts/eval/intercode_sql.sh [--flag value ...]
# Env: MODEL_DIR (root of lumos_unified_* folders, or one model folder), DATA_DIR (else $LUMOS_DATA_DIR), N,
# SQL_BACKEND (sqlite | mysql; mysql also needs SQL_URL, e.g. from scripts/start_mariadb.sh), BACKEND, SAVE_DIR, PYTHON.
set -euo pipefail
cd "$(dirname "$0")/../.."
MODEL_DIR=${MODEL_DIR:-models/smollm2-135m-instruct}
DATA=(); [ -n "${DATA_DIR:-}" ] && DATA=(--data_dir "$DATA_DIR")
URL=(); [ -n "${SQL_URL:-}" ] && URL=(--sql_url "$SQL_URL")
"${PYTHON:-.venv/bin/python}" -m eval.intercode_sql.run_eval "${DATA[@]}" "${URL[@]}" --model_name_or_path "$MODEL_DIR" \
  --max_num_examples "${N:-1034}" --formulation lumos_iterative --sql_backend "${SQL_BACKEND:-sqlite}" \
  --backend "${BACKEND:-hf}" --save_dir "${SAVE_DIR:-results/intercode_sql/lumos_iterative}" "$@"
