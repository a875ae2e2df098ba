"""Load the tokenizer and model for training (pad token, attention kernel, LoRA/QLoRA, gradient
checkpointing) and save the result so that chat APIs reproduce the training prompt.

The saved tokenizer carries ``lumos.formats.chat_template(with_bos=...)``: for a saved run,
``tokenizer.apply_chat_template(messages, tokenize=False)`` equals the training rendering (with BOS for
tokenizers that add it) and ``add_generation_prompt=True`` ends in ``<|assistant|>\\n``, so HF
pipelines and vLLM chat build the prompt the model was trained on (the released checkpoints lacked a
template: lumos issue #7).

Run: ``pytest tests/training/test_finetune.py``.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from typing import Any

import torch

from lumos.formats.chat import chat_template
from lumos.training.args import TrainArgs
from lumos.training.dataset import tokenizer_adds_bos
from lumos.training.packing import register_packed_attention

logger = logging.getLogger(__name__)
PAD_TOKEN = "<pad>"


def load_tokenizer(args: TrainArgs) -> Any:
    """The tokenizer, with ``<pad>`` added when it has no pad token (as the original: LLaMA gets id 32000)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(args.tokenizer_name or args.model_name_or_path)
    if tokenizer.eos_token is None:
        raise ValueError(f"tokenizer of {args.model_name_or_path} has no eos_token; set one before training")
    if tokenizer.pad_token is None:
        added = tokenizer.add_special_tokens({"pad_token": PAD_TOKEN})
        logger.info("added pad token %s (id %d, %d new)", PAD_TOKEN, tokenizer.pad_token_id, added)
    return tokenizer


def resolve_attn_implementation(requested: str) -> str:
    """``auto`` -> flash_attention_2 when flash-attn is importable and CUDA is available, else sdpa."""
    if requested != "auto":
        return requested
    if torch.cuda.is_available() and importlib.util.find_spec("flash_attn") is not None:
        return "flash_attention_2"
    return "sdpa"


def _dtype(name: str) -> Any:
    return "auto" if name == "auto" else getattr(torch, name)


def load_model(args: TrainArgs, tokenizer: Any, *, device_index: int = 0) -> Any:
    """The causal LM ready for ``accelerator.prepare``: resized embeddings, checkpointing, adapters.

    Args:
        device_index: the local process's GPU (only used to pin the 4-bit QLoRA model).
    """
    from transformers import AutoModelForCausalLM

    attn = resolve_attn_implementation(args.attn_implementation)
    dtype = _dtype(args.model_dtype)
    if attn == "flash_attention_2" and dtype in (torch.float32, "auto"):
        dtype = torch.bfloat16  # flash-attention kernels take only fp16/bf16
    kwargs: dict[str, Any] = {"dtype": dtype, "attn_implementation": attn}
    if args.use_qlora:
        if importlib.util.find_spec("bitsandbytes") is None:
            raise ImportError("use_qlora needs bitsandbytes: pip install bitsandbytes (see requirements-gpu.txt)")
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=torch.bfloat16,
        )
        kwargs["device_map"] = {"": device_index if torch.cuda.is_available() else "cpu"}
    model = AutoModelForCausalLM.from_pretrained(args.model_name_or_path, **kwargs)
    if args.packing and attn != "flash_attention_2":
        attn = register_packed_attention()  # per-example attention: no dense cross-example mask
        model.set_attn_implementation(attn)
    logger.info("loaded %s (%s, attention %s)", args.model_name_or_path, model.dtype, attn)
    if len(tokenizer) > model.get_input_embeddings().weight.shape[0]:
        logger.info("resizing embeddings %d -> %d", model.get_input_embeddings().weight.shape[0], len(tokenizer))
        model.resize_token_embeddings(len(tokenizer))
    model.config.pad_token_id = tokenizer.pad_token_id
    model.config.use_cache = False
    if model.generation_config is not None:
        model.generation_config.pad_token_id = tokenizer.pad_token_id
        model.generation_config.eos_token_id = tokenizer.eos_token_id
    if args.use_qlora:
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=args.gradient_checkpointing)
    elif args.gradient_checkpointing:
        if hasattr(model, "activation_checkpointing_enable"):  # transformers >= 5.2x name
            model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
        else:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        if args.use_lora:
            model.enable_input_require_grads()
    if args.use_lora:
        from peft import LoraConfig, TaskType, get_peft_model

        config = LoraConfig(
            task_type=TaskType.CAUSAL_LM,
            r=args.lora_rank,
            lora_alpha=args.lora_alpha,
            lora_dropout=args.lora_dropout,
            target_modules=list(args.lora_target_modules),
        )
        model = get_peft_model(model, config)
        trainable, total = model.get_nb_trainable_parameters()
        logger.info("LoRA: %d trainable of %d parameters (%.2f%%)", trainable, total, 100 * trainable / total)
    return model


def set_chat_template(tokenizer: Any) -> None:
    """Store the Lumos chat template on ``tokenizer`` (with BOS iff the tokenizer adds it)."""
    tokenizer.chat_template = chat_template(with_bos=tokenizer_adds_bos(tokenizer))


def save_model(accelerator: Any, model: Any, tokenizer: Any, output_dir: str | Path, *, lora: bool) -> Path:
    """Write the trained weights (safetensors) and the tokenizer with the Lumos chat template.

    Full fine-tuning: the model in ``output_dir`` (ZeRO-3 parameters are gathered first). LoRA: the
    adapter in ``output_dir/adapter``. Must be called on every process. Returns the folder written.
    """
    output_dir = Path(output_dir)
    target = output_dir / "adapter" if lora else output_dir
    accelerator.wait_for_everyone()
    state_dict = accelerator.get_state_dict(model)
    unwrapped = accelerator.unwrap_model(model)
    unwrapped.save_pretrained(target, is_main_process=accelerator.is_main_process, state_dict=state_dict)
    if accelerator.is_main_process:
        set_chat_template(tokenizer)
        tokenizer.save_pretrained(target)
    accelerator.wait_for_everyone()
    return target
