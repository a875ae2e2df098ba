"""Hugging Face transformers backend: the CPU default.

The model is loaded once and kept resident. Prompts are generated in batches with left padding and
greedy decoding; each row stops on its own at the first stop string (``"\\n"`` for the Lumos
modules) through a stopping criterion that tracks every row, and outputs are cut at that string.
``prompt_style`` decides whether prompts get the tokenizer's special tokens (BOS): ``original`` no
(the paper's eval), ``consistent`` yes (as in training) — see ``lumos.formats.chat.adds_bos``.

    >>> b = HFBackend("models/smollm2-135m-instruct")
    >>> b.generate(["<|user|>\\nTask: 2+2?\\n<|assistant|>\\n"], max_new_tokens=16)
    ['Subgoal 1: ...']

Exercise: ``pytest tests/inference/test_hf.py``.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lumos.formats.chat import Message, PromptStyle, adds_bos

logger = logging.getLogger(__name__)


def cut_at_stop(text: str, stop: Sequence[str]) -> str:
    """``text`` up to (not including) the earliest occurrence of any stop string."""
    cut = len(text)
    for s in stop:
        if s:
            i = text.find(s)
            if 0 <= i < cut:
                cut = i
    return text[:cut]


def _make_row_stop_criterion(tokenizer: Any, prompt_len: int, stop: Sequence[str]):
    """A ``StoppingCriteria`` returning one flag per row: True once that row's new text holds a stop string.

    Only a tail of each row's new tokens is decoded per step (long enough to contain any stop string
    that ends at the newest token), so the check is O(1) per row and step.
    """
    import torch
    from transformers import StoppingCriteria

    stops = [s for s in stop if s]
    window = 4 * max((len(s) for s in stops), default=1) + 4

    class RowStop(StoppingCriteria):
        def __init__(self) -> None:
            self.done: torch.Tensor | None = None

        def __call__(self, input_ids: torch.LongTensor, scores: Any, **kwargs: Any) -> torch.BoolTensor:
            if self.done is None:
                self.done = torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
            if not stops:
                return self.done
            new = input_ids[:, prompt_len:]
            for row in range(input_ids.shape[0]):
                if self.done[row]:
                    continue
                tail = tokenizer.decode(new[row, -window:], skip_special_tokens=True)
                if any(s in tail for s in stops):
                    self.done[row] = True
            return self.done.clone()

    return RowStop()


class HFBackend:
    """A causal LM from a local folder (or a LoRA adapter folder, merged into its base on load).

    Args:
        model_path: model folder; an adapter folder (``adapter_config.json``) is merged into its base.
        prompt_style: ``original`` (no BOS) or ``consistent`` (BOS as in training), for ``generate``.
        batch_size: rows per ``model.generate`` call.
        dtype: ``float32`` (default, exact) or ``bfloat16`` (about 1.7x faster on AVX512-BF16 CPUs).
        model, tokenizer: already-loaded objects (tests; sharing one model between backends).
    """

    name = "hf"

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        prompt_style: PromptStyle = "original",
        batch_size: int = 8,
        dtype: str = "float32",
        model: Any = None,
        tokenizer: Any = None,
        load_in_8bit: bool = False,
    ) -> None:
        adds_bos(prompt_style)  # validates the style
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.model_path = str(model_path) if model_path is not None else None
        self.prompt_style = prompt_style
        self.batch_size = batch_size
        if model is None or tokenizer is None:
            if model_path is None:
                raise ValueError("HFBackend needs model_path or both model and tokenizer")
            model, tokenizer = _load(Path(model_path), dtype, load_in_8bit=load_in_8bit)
        self.model = model.eval()
        self.dtype = dtype
        self.load_in_8bit = load_in_8bit
        self._lock = threading.Lock()  # one generate at a time: episodes of other threads wait
        self.tokenizer = tokenizer  # not mutated: padding side and pad id are passed per call
        self.pad_token_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        self.eos_token: str = self.tokenizer.eos_token or "</s>"

    def _generation_config(self, max_new_tokens: int):
        from transformers import GenerationConfig

        tok = self.tokenizer
        return GenerationConfig(
            max_new_tokens=max_new_tokens,
            do_sample=False,
            num_beams=1,
            pad_token_id=self.pad_token_id,
            eos_token_id=tok.eos_token_id,
            bos_token_id=tok.bos_token_id,
        )

    def _generate_ids(self, prompts: Sequence[str], *, max_new_tokens: int, stop: Sequence[str], special: bool) -> list[str]:
        import torch
        from transformers import StoppingCriteriaList

        if not prompts:
            return []
        encoded = [self.tokenizer(p, add_special_tokens=special)["input_ids"] for p in prompts]
        order = sorted(range(len(prompts)), key=lambda i: -len(encoded[i]))
        outputs: list[str] = [""] * len(prompts)
        config = self._generation_config(max_new_tokens)
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            batch = _left_pad([encoded[i] for i in idx], self.pad_token_id)
            prompt_len = batch["input_ids"].shape[1]
            criterion = _make_row_stop_criterion(self.tokenizer, prompt_len, stop)
            with torch.inference_mode():
                out = self.model.generate(
                    input_ids=batch["input_ids"].to(self.model.device),
                    attention_mask=batch["attention_mask"].to(self.model.device),
                    generation_config=config,
                    stopping_criteria=StoppingCriteriaList([criterion]),
                )
            for row, i in enumerate(idx):
                text = self.tokenizer.decode(out[row, prompt_len:], skip_special_tokens=True)
                outputs[i] = cut_at_stop(text, stop)
        return outputs

    def describe(self) -> dict[str, Any]:
        """What this backend is (for metrics.json)."""
        return {"kind": "hf", "model": self.model_path, "dtype": self.dtype, "device": str(self.model.device),
                "load_in_8bit": self.load_in_8bit, "prompt_style": self.prompt_style, "batch_size": self.batch_size}

    def generate(self, prompts: Sequence[str], *, max_new_tokens: int = 512, stop: Sequence[str] = ("\n",)) -> list[str]:
        """Greedy continuations of rendered prompts, each cut at its first stop string."""
        with self._lock:
            return self._generate_ids(prompts, max_new_tokens=max_new_tokens, stop=stop, special=adds_bos(self.prompt_style))

    def chat(self, conversations: Sequence[Sequence[Message]], *, max_new_tokens: int = 512) -> list[str]:
        """Greedy replies using the tokenizer's own chat template (which writes any BOS itself)."""
        if not getattr(self.tokenizer, "chat_template", None):
            raise ValueError(f"the tokenizer of {self.model_path or 'this model'} has no chat template; cannot chat()")
        prompts = [
            self.tokenizer.apply_chat_template(
                [m.to_dict() if isinstance(m, Message) else dict(m) for m in conv],
                tokenize=False,
                add_generation_prompt=True,
            )
            for conv in conversations
        ]
        with self._lock:
            outs = self._generate_ids(prompts, max_new_tokens=max_new_tokens, stop=(), special=False)
        return [o.strip() for o in outs]


def _left_pad(rows: list[list[int]], pad_id: int) -> dict[str, Any]:
    """Left-pad token id lists into ``input_ids`` / ``attention_mask`` tensors."""
    import torch

    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        if r:
            ids[i, width - len(r):] = torch.tensor(r, dtype=torch.long)
            mask[i, width - len(r):] = 1
    return {"input_ids": ids, "attention_mask": mask}


def _load(path: Path, dtype: str, *, load_in_8bit: bool = False) -> tuple[Any, Any]:
    """Load (model, tokenizer) from a folder; a PEFT adapter folder is merged into its base model.

    On a GPU the model goes to ``cuda:$LOCAL_RANK`` (one GPU per process of a sharded run);
    ``load_in_8bit`` quantises it with bitsandbytes (the original's ``--load_in_8bit``).
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if not path.exists():
        raise FileNotFoundError(f"model folder {path} does not exist")
    torch_dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}.get(dtype)
    if torch_dtype is None:
        raise ValueError(f"unknown dtype {dtype!r}; expected float32, bfloat16 or float16")
    adapter_cfg = path / "adapter_config.json"
    if adapter_cfg.is_file():
        from peft import PeftModel

        base = json.loads(adapter_cfg.read_text())["base_model_name_or_path"]
        logger.info("loading base %s + LoRA adapter %s", base, path)
        model = AutoModelForCausalLM.from_pretrained(base, dtype=torch_dtype)
        model = PeftModel.from_pretrained(model, str(path)).merge_and_unload()
        tok_dir = path if (path / "tokenizer_config.json").is_file() else Path(base)
    else:
        logger.info("loading %s (%s)", path, dtype)
        kwargs: dict[str, Any] = {}
        if load_in_8bit:
            from transformers import BitsAndBytesConfig

            kwargs["quantization_config"] = BitsAndBytesConfig(load_in_8bit=True)
        model = AutoModelForCausalLM.from_pretrained(str(path), dtype=torch_dtype, **kwargs)
        tok_dir = path
    if torch.cuda.is_available() and not load_in_8bit:
        model = model.to(f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}")
    tokenizer = AutoTokenizer.from_pretrained(str(tok_dir))
    return model, tokenizer
