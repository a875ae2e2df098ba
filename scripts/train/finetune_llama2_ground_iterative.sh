#!/usr/bin/env bash
# Fine-tune the ground module, iterative formulation (hyperparameters: configs/train/ground_iterative.yaml).
# Usage: [TASK=maths] [TRAIN_FILE=...] [OUTPUT_DIR=...] [MODEL_NAME_OR_PATH=...] [NUM_GPUS=n] [MAX_TRAIN_SAMPLES=n]
#        [MAX_STEPS=n] [EPOCHS=n] [LR=x] [LORA=1] [QLORA=1] [SEED=n] bash $0 [--field value ...]
# Defaults: TRAIN_FILE=data/train/$TASK/train_annots/lumos_${TASK}_ground_iterative.jsonl, OUTPUT_DIR=models/lumos_${TASK}_ground_iterative;
# Llama-2-7B with DeepSpeed ZeRO-3 on all GPUs, else models/smollm2-135m-instruct on CPU (configs/train/cpu.yaml).
set -euo pipefail
RECIPE=ground_iterative exec bash "$(dirname "$0")/launch.sh" "$@"
