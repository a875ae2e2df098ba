"""Merge a LoRA adapter into its base model and save a full checkpoint with the tokenizer.

The adapter folder is what LoRA training writes to ``OUTPUT_DIR/adapter`` (``adapter_config.json``,
``adapter_model.safetensors`` and the tokenizer with the Lumos chat template). The merged folder
gets safetensors weights and that tokenizer (the original did not save the tokenizer).

Run: ``python -m lumos.training.merge_lora --lora_model_name_or_path models/X/adapter --output_dir models/X``
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

logger = logging.getLogger(__name__)


def merge_lora(
    adapter_dir: str | Path, output_dir: str | Path, *, base_model: str | None = None, dtype: str = "auto"
) -> Path:
    """Load ``base_model`` (default: the adapter config's), apply the adapter, merge, save with the tokenizer."""
    import torch
    from peft import PeftConfig, PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    adapter_dir, output_dir = Path(adapter_dir), Path(output_dir)
    if not (adapter_dir / "adapter_config.json").is_file():
        raise FileNotFoundError(f"{adapter_dir} has no adapter_config.json (is it a LoRA adapter folder?)")
    base = base_model or PeftConfig.from_pretrained(adapter_dir).base_model_name_or_path
    model = AutoModelForCausalLM.from_pretrained(base, dtype="auto" if dtype == "auto" else getattr(torch, dtype))
    tokenizer = AutoTokenizer.from_pretrained(adapter_dir)
    if len(tokenizer) > model.get_input_embeddings().weight.shape[0]:
        model.resize_token_embeddings(len(tokenizer))
    model = PeftModel.from_pretrained(model, adapter_dir).merge_and_unload()
    model.config.pad_token_id = tokenizer.pad_token_id
    if model.generation_config is not None:
        model.generation_config.pad_token_id = tokenizer.pad_token_id
        model.generation_config.eos_token_id = tokenizer.eos_token_id
    output_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(output_dir)
    tokenizer.save_pretrained(output_dir)
    logger.info("merged %s into %s -> %s", adapter_dir, base, output_dir)
    return output_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lora_model_name_or_path", required=True, help="adapter folder")
    parser.add_argument("--base_model_name_or_path", default=None, help="default: from adapter_config.json")
    parser.add_argument("--output_dir", default=None, help="default: the adapter folder's parent")
    parser.add_argument("--dtype", default="auto", choices=["auto", "float32", "bfloat16", "float16"])
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    adapter = Path(args.lora_model_name_or_path)
    merge_lora(adapter, args.output_dir or adapter.parent, base_model=args.base_model_name_or_path, dtype=args.dtype)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
