#!/usr/bin/env bash
# Shared body of scripts/train/finetune_llama2_*.sh (they set RECIPE): environment -> `accelerate launch`.
# GPU found: MODEL_NAME_OR_PATH=meta-llama/Llama-2-7b-hf, DeepSpeed ZeRO-3 (DS_CONFIG) on NUM_GPUS processes, bf16.
# No GPU: models/smollm2-135m-instruct, configs/train/cpu.yaml merged on top, NUM_PROCESSES (default 1; more
# processes use DeepSpeed ZeRO-3 over gloo). DS_CONFIG=none: no DeepSpeed; MIXED_PRECISION (default bf16).
# ACCELERATE_CONFIG=configs/accelerate/<file>.yaml replaces the launch flags (multi-GPU/multi-node, offloading;
# NUM_PROCESSES, MACHINE_RANK, MAIN_PROCESS_IP override its values).
set -euo pipefail
cd "$(dirname "$0")/../.."
TASK=${TASK:-maths}
case ${RECIPE:?RECIPE is set by scripts/train/finetune_llama2_*.sh} in
  plan_iterative|plan_onetime|ground_iterative|ground_onetime|integrated) NAME=lumos_${TASK}_$RECIPE ;;
  cot|direct) NAME=${TASK}_$RECIPE ;;
  *) echo "launch.sh: unknown RECIPE '$RECIPE'" >&2; exit 2 ;;
esac
TRAIN_FILE=${TRAIN_FILE:-data/train/$TASK/train_annots/$NAME.jsonl}
OUTPUT_DIR=${OUTPUT_DIR:-models/$NAME}
NUM_GPUS=${NUM_GPUS:-$( (nvidia-smi -L 2>/dev/null || true) | grep -c '^GPU' || true)}
PY=${PYTHON:-python}; [[ -z ${PYTHON:-} && -x .venv/bin/python && -z ${VIRTUAL_ENV:-} ]] && PY=.venv/bin/python
CONFIGS=("configs/train/$RECIPE.yaml")
if (( NUM_GPUS > 0 )); then
  MODEL=${MODEL_NAME_OR_PATH:-meta-llama/Llama-2-7b-hf}; PROCS=$NUM_GPUS
  DS_CONFIG=${DS_CONFIG:-configs/deepspeed/stage3_no_offloading_accelerate.conf}
else
  MODEL=${MODEL_NAME_OR_PATH:-models/smollm2-135m-instruct}; PROCS=${NUM_PROCESSES:-1}
  DS_DEFAULT=none; (( PROCS > 1 )) && DS_DEFAULT=configs/deepspeed/stage3_no_offloading_accelerate.conf
  DS_CONFIG=${DS_CONFIG:-$DS_DEFAULT}  # one CPU process: plain accelerate (DeepSpeed only adds start-up time)
  CONFIGS+=(configs/train/cpu.yaml); export DS_ACCELERATOR=${DS_ACCELERATOR:-cpu}
fi
ARGS=(--train_file "$TRAIN_FILE" --output_dir "$OUTPUT_DIR" --model_name_or_path "$MODEL")
[[ -n ${MAX_TRAIN_SAMPLES:-} ]] && ARGS+=(--max_train_samples "$MAX_TRAIN_SAMPLES")
[[ -n ${MAX_STEPS:-} ]] && ARGS+=(--max_train_steps "$MAX_STEPS")
[[ -n ${EPOCHS:-} ]] && ARGS+=(--num_train_epochs "$EPOCHS")
[[ -n ${LR:-} ]] && ARGS+=(--learning_rate "$LR")
[[ -n ${SEED:-} ]] && ARGS+=(--seed "$SEED")
[[ ${LORA:-0} == 1 ]] && ARGS+=(--use_lora true)
[[ ${QLORA:-0} == 1 ]] && ARGS+=(--use_qlora true)
if [[ -n ${ACCELERATE_CONFIG:-} ]]; then
  LAUNCH=(--config_file "$ACCELERATE_CONFIG" --mixed_precision "${MIXED_PRECISION:-bf16}")
  [[ -n ${NUM_PROCESSES:-} ]] && LAUNCH+=(--num_processes "$NUM_PROCESSES")
  [[ -n ${MACHINE_RANK:-} ]] && LAUNCH+=(--machine_rank "$MACHINE_RANK")
  [[ -n ${MAIN_PROCESS_IP:-} ]] && LAUNCH+=(--main_process_ip "$MAIN_PROCESS_IP")
else
  LAUNCH=(--num_machines 1 --num_processes "$PROCS" --dynamo_backend no --mixed_precision "${MIXED_PRECISION:-bf16}")
  [[ $DS_CONFIG != none ]] && LAUNCH+=(--use_deepspeed --deepspeed_config_file "$DS_CONFIG")
fi
echo "==> $RECIPE: $TRAIN_FILE -> $OUTPUT_DIR (model $MODEL, $PROCS process(es), GPUs: $NUM_GPUS)" >&2
exec "$PY" -m accelerate.commands.launch "${LAUNCH[@]}" -m lumos.training.finetune "${CONFIGS[@]}" "${ARGS[@]}" "$@"
