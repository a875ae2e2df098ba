#!/usr/bin/env bash
# Fine-tune the ground module, onetime formulation (configs/train/ground_onetime.yaml, which extends paper.yaml).
# Usage: [TASK=maths] [TRAIN_FILE=...] [OUTPUT_DIR=...] [MODEL_NAME_OR_PATH=...] [NUM_GPUS=n] [NUM_PROCESSES=n]
#        [MAX_TRAIN_SAMPLES=n] [MAX_STEPS=n] [EPOCHS=n] [LR=x] [SEED=n] [LORA=1] [QLORA=1] bash $0 [--field value ...]
# Llama-2-7B with DeepSpeed ZeRO-3 on all GPUs, else models/smollm2-135m-instruct on CPU (+ configs/train/cpu.yaml).
# Every variable and default: python -m lumos.training.launch --help
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-python}; [[ -z ${PYTHON:-}${VIRTUAL_ENV:-} && -x .venv/bin/python ]] && PY=.venv/bin/python
exec "$PY" -m lumos.training.launch ground onetime "$@"
