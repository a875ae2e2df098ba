#!/usr/bin/env bash
# Serve the plan and ground modules under MODEL_ROOT with vLLM's OpenAI-compatible server (one server with two
# LoRA adapters of one base, one server for one folder, or two servers behind a router on --port).
#   GPU: scripts/serve_vllm.sh models --domain maths --formulation iterative --port 8000
#   CPU: PYTHON=.venv-vllm/bin/python scripts/serve_vllm.sh models --gpu_memory_utilization 0.3
# Then evaluate with: --backend openai --base_url http://127.0.0.1:8000/v1
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL_ROOT=${1:?usage: $0 MODEL_ROOT [--domain D] [--formulation iterative|onetime] [--port P] [...]}; shift
PY=${PYTHON:-python}
exec "$PY" -m lumos.inference.serve "$MODEL_ROOT" --python "$PY" "$@"
