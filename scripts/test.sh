#!/usr/bin/env bash
# Run the checks: setup when needed, then ruff and pytest.
#   ./scripts/test.sh            default suite (fast tests; well under 20 minutes on 2 cores)
#   ./scripts/test.sh --slow     only the slow tests (base model, multi-process training, vLLM)
#   ./scripts/test.sh --all      everything except gpu/network tests
# Extra arguments after the option go to pytest (./scripts/test.sh -- -k chat).
set -euo pipefail
cd "$(dirname "$0")/.."
MARK="not slow and not gpu and not network"
case "${1:-}" in
  --slow) MARK="slow and not gpu and not network"; shift ;;
  --all) MARK="not gpu and not network"; shift ;;
  --) shift ;;
esac
./setup.sh
PY=python; [[ -z "${VIRTUAL_ENV:-}${CONDA_PREFIX:-}" && "${LUMOS_NO_VENV:-0}" != 1 ]] && PY=.venv/bin/python
export DS_ACCELERATOR=cpu HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
echo "==> ruff"
"$PY" -m ruff check .
echo "==> pytest -m '$MARK'"
"$PY" -m pytest -m "$MARK" "$@"
