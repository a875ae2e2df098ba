#!/usr/bin/env bash
# Small-scale CPU reproduction (docs/reproduction.md): rule-convert GSM8K / StrategyQA train, fine-tune
# SmolLM2-135M (LoRA) as Lumos-I, Lumos-O, CoT- and direct-trained agents with the same budget, evaluate on
# GSM8K, SVAMP and the 500 local-corpus HotpotQA questions, plus the untrained base as the floor.
# Every stage is resumable: rerun the same command after an interruption.
# Usage: LUMOS_DATA_DIR=/path/to/data ./scripts/reproduce_cpu.sh [--steps N] [--n_gsm N] [--run NAME] ...
#        (all flags: ./scripts/reproduce_cpu.sh --help). Output: results/reproduce_cpu/<run>/{summary.json,table.md,plot.png}
set -euo pipefail
cd "$(dirname "$0")/.."
export LUMOS_DATA_DIR=${LUMOS_DATA_DIR:-../shared/data}
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 DS_ACCELERATOR=cpu TOKENIZERS_PARALLELISM=false
PY=${PYTHON:-.venv/bin/python}; [[ -x $PY ]] || PY=python3
exec "$PY" -m lumos.reproduce "$@"
