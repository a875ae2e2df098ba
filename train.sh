#!/usr/bin/env bash
# Train one Lumos module (spec §4.6):  ./train.sh plan|ground iterative|onetime [--field value ...]
# Baselines:                           ./train.sh cot|direct|integrated [--field value ...]
# Environment: TASK (maths|complex_qa|web_agent|multimodal|unified), TRAIN_FILE, OUTPUT_DIR, MODEL_NAME_OR_PATH,
# NUM_GPUS, MAX_TRAIN_SAMPLES, MAX_STEPS, EPOCHS, LR, LORA=1, QLORA=1, SEED; see scripts/train/launch.sh.
# Example (CPU): TASK=maths MAX_STEPS=2 ./train.sh plan iterative
set -euo pipefail
cd "$(dirname "$0")"
usage() { sed -n '2,6p' "$0" >&2; exit 2; }
case "${1:-}" in
  plan|ground) [[ ${2:-} == iterative || ${2:-} == onetime ]] || usage
    exec bash "scripts/train/finetune_llama2_${1}_${2}.sh" "${@:3}" ;;
  cot|direct|integrated) exec bash "scripts/train/finetune_llama2_${1}.sh" "${@:2}" ;;
  *) usage ;;
esac
