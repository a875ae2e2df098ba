"""The offline base model prepared by ./setup.sh loads with Auto* classes and generates."""

import pytest

from lumos.base_model import is_prepared
from lumos.paths import DEFAULT_BASE_MODEL


@pytest.mark.slow
def test_base_model_loads_and_generates():
    if not is_prepared(DEFAULT_BASE_MODEL):
        pytest.skip(f"{DEFAULT_BASE_MODEL} not prepared; run ./setup.sh")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(DEFAULT_BASE_MODEL)
    model = AutoModelForCausalLM.from_pretrained(DEFAULT_BASE_MODEL)
    assert sum(p.numel() for p in model.parameters()) > 100_000_000
    enc = tok.apply_chat_template(
        [{"role": "user", "content": "What is the capital of France?"}], add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    out = model.generate(**enc, max_new_tokens=12, do_sample=False)
    assert "Paris" in tok.decode(out[0][enc["input_ids"].shape[1] :])


def test_base_model_folder_check(tmp_path):
    assert not is_prepared(tmp_path)
    for f in ("config.json", "model.safetensors", "tokenizer_config.json"):
        (tmp_path / f).write_text("{}")
    assert is_prepared(tmp_path)
