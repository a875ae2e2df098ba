"""vLLM backend (slow; skips unless ``import vllm`` works, i.e. run it from .venv-vllm):

    .venv-vllm/bin/python -m pytest -m slow tests/inference/test_vllm.py

A tiny LLaMA with head size 64 (vLLM's CPU attention needs a supported head size) and two random LoRA
adapters of it: vLLM greedy output must agree with HFBackend, stop per row at the newline, and serve both
adapters from one engine.
"""

from __future__ import annotations

import pytest

pytest.importorskip("vllm", reason="vllm is not importable here; run from .venv-vllm (scripts/setup_vllm_cpu.sh)")
pytestmark = pytest.mark.slow

PROMPTS = ["<|user|>\nTask: Natalia sold clips\n<|assistant|>\n", "R1 = Calculator(48 / 2)", "Subgoal 1:"]


def _agree(a: str, b: str) -> bool:
    # vLLM holds back a trailing incomplete UTF-8 character that HF decodes as U+FFFD
    return a.rstrip("\ufffd") == b.rstrip("\ufffd")


@pytest.fixture(scope="module")
def tiny_dirs(tmp_path_factory):
    import torch
    from peft import LoraConfig, get_peft_model
    from tiny_models import build_tiny_tokenizer
    from transformers import LlamaConfig, LlamaForCausalLM

    root = tmp_path_factory.mktemp("vllm_tiny")
    tok = build_tiny_tokenizer()
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=128, intermediate_size=256, num_hidden_layers=2,
                      num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=1024,
                      bos_token_id=1, eos_token_id=2, pad_token_id=3)
    base = root / "base"
    LlamaForCausalLM(cfg).save_pretrained(base)
    tok.save_pretrained(base)
    adapters = []
    for i, name in enumerate(["plan", "ground"]):
        torch.manual_seed(10 + i)
        model = get_peft_model(LlamaForCausalLM.from_pretrained(base), LoraConfig(
            r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
        model.save_pretrained(root / name)
        adapters.append(str(root / name))
    return str(base), adapters


def test_vllm_matches_hf_and_stops_per_row(tiny_dirs):
    from lumos.inference import load_module_backends
    from lumos.inference.hf import HFBackend

    base, _ = tiny_dirs
    plan, ground = load_module_backends("vllm", base, base, dtype="float32", max_model_len=512)
    assert plan is ground  # one folder -> one engine
    free = plan.generate(PROMPTS, max_new_tokens=16, stop=())
    hf = HFBackend(base).generate(PROMPTS, max_new_tokens=16, stop=())
    assert all(_agree(v, h) for v, h in zip(free, hf)), (free, hf)
    single = [plan.generate([p], max_new_tokens=16, stop=())[0] for p in PROMPTS]
    assert single == free
    row, pos = next((r, i) for r, t in enumerate(free) for i, ch in enumerate(t) if i > 0 and ch.isascii() and ch.isalnum())
    stop = free[row][pos]
    cut = plan.generate(PROMPTS, max_new_tokens=16, stop=(stop,))
    assert cut[row] == free[row][: free[row].index(stop)] and all(stop not in c for c in cut)


def test_two_lora_adapters_share_one_engine(tiny_dirs):
    from lumos.inference.hf import HFBackend
    from lumos.inference.vllm import load_vllm_modules

    _, (plan_dir, ground_dir) = tiny_dirs
    plan, ground = load_vllm_modules(plan_dir, ground_dir, dtype="float32", max_model_len=512)
    assert plan.engine is ground.engine and plan.lora_request.lora_int_id != ground.lora_request.lora_int_id
    vp = plan.generate(PROMPTS[:2], max_new_tokens=12, stop=())
    vg = ground.generate(PROMPTS[:2], max_new_tokens=12, stop=())
    assert vp != vg
    assert all(_agree(a, b) for a, b in zip(vp, HFBackend(plan_dir).generate(PROMPTS[:2], max_new_tokens=12, stop=())))
    assert all(_agree(a, b) for a, b in zip(vg, HFBackend(ground_dir).generate(PROMPTS[:2], max_new_tokens=12, stop=())))
