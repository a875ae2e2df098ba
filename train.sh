#!/usr/bin/env bash
# Train one Lumos module:  ./train.sh plan|ground iterative|onetime [--field value ...]
# Baselines:               ./train.sh cot|direct|integrated [--field value ...]
# Same as scripts/train/finetune_llama2_<recipe>.sh. Environment: TASK (maths|complex_qa|web_agent|multimodal|unified),
# TRAIN_FILE, OUTPUT_DIR, MODEL_NAME_OR_PATH, NUM_GPUS, NUM_PROCESSES, MAX_TRAIN_SAMPLES, MAX_STEPS, EPOCHS, LR,
# LORA=1, QLORA=1, SEED, ACCELERATE_CONFIG; all of them: python -m lumos.training.launch --help
# Example (CPU): TASK=maths MAX_STEPS=2 ./train.sh plan iterative
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python}; [[ -z ${PYTHON:-}${VIRTUAL_ENV:-} && -x .venv/bin/python ]] && PY=.venv/bin/python
exec "$PY" -m lumos.training.launch "$@"
