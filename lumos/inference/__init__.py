"""Inference backends behind one interface (``Backend``): hf (CPU default), vllm, openai, scripted (tests).

``load_backend("hf", "models/smollm2-135m-instruct")`` builds one backend; ``load_module_backends``
builds the planning and grounding backends, loading a model only once when both modules are the
same folder (and, for vLLM, serving two LoRA adapters of one base from one engine). Heavy packages
(transformers, vllm, openai) are imported only by the backend that needs them.

Exercise: ``pytest tests/inference``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from lumos.formats.chat import PromptStyle
from lumos.inference.base import Backend
from lumos.paths import check_choice

BackendKind = Literal["hf", "vllm", "openai"]
BACKENDS: tuple[str, ...] = ("hf", "vllm", "openai")


def load_backend(kind: str, model_path: str | Path, *, prompt_style: PromptStyle = "original", batch_size: int = 8,
                 dtype: str = "float32", seed: int = 0, base_url: str | None = None, api_key: str | None = None,
                 openai_api: str = "completions", load_in_8bit: bool = False, **kwargs: Any) -> Backend:
    """Build one backend.

    Args:
        kind: ``hf``, ``vllm`` or ``openai``.
        model_path: a model folder (hf, vllm) or a served model name (openai).
        prompt_style: ``original`` or ``consistent`` (whether prompts get BOS).
        batch_size: rows per generation call (hf) or per request (openai).
        dtype: ``float32``/``bfloat16`` (hf, vllm).
        base_url, api_key: the OpenAI-compatible endpoint and its key (openai).
        openai_api: ``completions`` or ``chat`` (openai).
        load_in_8bit: 8-bit weights (hf, bitsandbytes).

    Raises:
        ValueError: unknown ``kind``.
    """
    check_choice(kind, BACKENDS, "backend")
    if kind == "hf":
        from lumos.inference.hf import HFBackend

        return HFBackend(model_path, prompt_style=prompt_style, batch_size=batch_size, dtype=dtype,
                         load_in_8bit=load_in_8bit, **kwargs)
    if kind == "vllm":
        from lumos.inference.vllm import VLLMBackend, build_engine

        return VLLMBackend(build_engine(str(model_path), dtype=dtype, seed=seed, **kwargs),
                           prompt_style=prompt_style)
    from lumos.inference.openai import OpenAIBackend

    return OpenAIBackend(str(model_path), base_url=base_url, api_key=api_key, api=openai_api, batch_size=batch_size,
                         **kwargs)


def load_module_backends(kind: str, plan_path: str | Path, ground_path: str | Path | None, **kwargs: Any
                         ) -> tuple[Backend, Backend | None]:
    """The planning and grounding backends; one shared backend when both paths are equal.

    ``ground_path`` is None for the single-module baselines (cot, direct).
    """
    check_choice(kind, BACKENDS, "backend")
    if ground_path is None:
        return load_backend(kind, plan_path, **kwargs), None
    if kind == "vllm":
        from lumos.inference.vllm import load_vllm_modules

        style = kwargs.pop("prompt_style", "original")
        for key in ("batch_size", "base_url", "api_key", "openai_api", "load_in_8bit"):
            kwargs.pop(key, None)
        return load_vllm_modules(str(plan_path), str(ground_path), prompt_style=style, **kwargs)
    plan = load_backend(kind, plan_path, **kwargs)
    ground = plan if str(plan_path) == str(ground_path) else load_backend(kind, ground_path, **kwargs)
    return plan, ground


__all__ = ["BACKENDS", "Backend", "BackendKind", "load_backend", "load_module_backends"]
