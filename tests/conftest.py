"""Shared fixtures: a tiny random LLaMA and a small byte-level BPE tokenizer, built in code (no download).

``tiny_tokenizer`` behaves like LLaMA's: it adds ``<s>`` (BOS) when encoding, EOS is ``</s>`` and
pad is ``<pad>``; ``<|user|>`` / ``<|assistant|>`` are plain text, as in Lumos. ``tiny_model_dir``
is a saved folder (safetensors + tokenizer) that ``AutoModelForCausalLM`` / ``AutoTokenizer`` load.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("DS_ACCELERATOR", "cpu")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from tiny_models import SHARED_DATA, build_tiny_model, build_tiny_tokenizer  # noqa: E402


@pytest.fixture(scope="session")
def tiny_tokenizer():
    return build_tiny_tokenizer()


@pytest.fixture(scope="session")
def tiny_model(tiny_tokenizer):
    return build_tiny_model(len(tiny_tokenizer))


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, tiny_tokenizer, tiny_model) -> Path:
    """A saved tiny model folder (safetensors + tokenizer), for code that loads from a path."""
    out = tmp_path_factory.mktemp("tiny_llama")
    tiny_model.save_pretrained(out)
    tiny_tokenizer.save_pretrained(out)
    return out


@pytest.fixture
def shared_data() -> Path:
    """``../shared/data`` (or ``$LUMOS_DATA_DIR``); skips the test when absent."""
    path = Path(os.environ.get("LUMOS_DATA_DIR", SHARED_DATA))
    if not path.is_dir():
        pytest.skip(f"benchmark data not found at {path} (set LUMOS_DATA_DIR)")
    return path


class FnTool:
    """A stub tool: ``fn(call) -> value`` registered under ``name``; records its calls."""

    def __init__(self, name, fn) -> None:
        self.name, self.fn, self.calls = name, fn, []

    def __call__(self, call):
        self.calls.append(call)
        return self.fn(call)


@pytest.fixture
def fn_tool():
    return FnTool


@pytest.fixture
def execute():
    """The real executor (lumos.tools.executor); the tools in these tests are stubs."""
    from lumos.tools.executor import execute_actions

    return execute_actions
