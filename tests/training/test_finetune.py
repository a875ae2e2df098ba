"""Training runs on the tiny model: checkpoint + tokenizer with the Lumos chat template, resume, LoRA, launcher."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import torch
from training_helpers import PLAN, REPO, env_for_subprocess, read_log, run_train, write_train_file

from lumos.formats.chat import render, render_prompt
from lumos.training.args import TrainArgs
from lumos.training.dataset import tokenize_conversation, tokenizer_adds_bos


@pytest.fixture
def train_file(tmp_path) -> Path:
    return write_train_file(tmp_path)


def test_two_step_run_writes_a_loadable_checkpoint_with_the_chat_template(tmp_path, tiny_model_dir, train_file):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = tmp_path / "run"
    metrics = run_train(
        train_file=str(train_file),
        model_name_or_path=str(tiny_model_dir),
        output_dir=str(out),
        max_train_steps=2,
        report_to=["tensorboard"],
    )
    assert metrics["status"] == "done" and metrics["completed_steps"] == 2
    assert (out / "model.safetensors").is_file() and (out / "loss_curve.png").stat().st_size > 0
    assert list((out / "lumos").rglob("events.out.tfevents*")), "no TensorBoard events"
    assert [r["step"] for r in read_log(out)] == [1, 2]
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["data"]["kept"] == 12 and "git_commit" in saved and saved["seed"] == 42

    model = AutoModelForCausalLM.from_pretrained(out)
    tok = AutoTokenizer.from_pretrained(out)
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    assert any(not torch.equal(a, b) for a, b in zip(model.state_dict().values(), base.state_dict().values()))

    bos = tok.bos_token if tokenizer_adds_bos(tok) else ""
    assert tok.apply_chat_template(PLAN, tokenize=False) == bos + render(PLAN, eos_token=tok.eos_token)
    ids, _, _ = tokenize_conversation(PLAN, tok, 1024)
    assert list(tok.apply_chat_template(PLAN, tokenize=True, return_dict=True)["input_ids"]) == ids
    prompt = tok.apply_chat_template(PLAN[:3], tokenize=False, add_generation_prompt=True)
    assert prompt.endswith("<|assistant|>\n")
    assert prompt == bos + render_prompt(PLAN[:3], style="consistent", eos_token=tok.eos_token)
    assert model.generation_config.eos_token_id == tok.eos_token_id


def test_resume_after_kill_matches_uninterrupted_run(tmp_path, tiny_model_dir, train_file):
    from safetensors.torch import load_file

    common = {
        "train_file": str(train_file),
        "model_name_or_path": str(tiny_model_dir),
        "max_train_steps": 5,
        "checkpointing_steps": 2,
        "keep_checkpoints": 5,
        "keep_checkpoints_at_end": True,
    }
    full = tmp_path / "full"
    run_train(output_dir=str(full), **common)
    assert sorted(p.name for p in (full / "checkpoints").iterdir()) == ["step_2", "step_4"]

    # the state a kill right after the step-2 checkpoint leaves behind (+ a half-written checkpoint)
    killed = tmp_path / "killed"
    killed.mkdir()
    (killed / "checkpoints").mkdir()
    os.system(f"cp -r {full}/checkpoints/step_2 {killed}/checkpoints/")
    (killed / "checkpoints" / "step_4.tmp").mkdir()
    (killed / "train_log.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in read_log(full)[:3]) + '{"step": 4, "lo'
    )

    metrics = run_train(output_dir=str(killed), **common)
    assert metrics["resumed_from"].endswith("step_2") and metrics["completed_steps"] == 5
    assert [r["step"] for r in read_log(killed)] == [1, 2, 3, 4, 5]
    assert [r["loss"] for r in read_log(killed)] == [r["loss"] for r in read_log(full)]
    a, b = load_file(full / "model.safetensors"), load_file(killed / "model.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_finished_run_is_not_repeated(tmp_path, tiny_model_dir, train_file):
    out = tmp_path / "run"
    run_train(
        train_file=str(train_file), model_name_or_path=str(tiny_model_dir), output_dir=str(out), max_train_steps=1
    )
    stamp = (out / "model.safetensors").stat().st_mtime_ns
    metrics = run_train(
        train_file=str(train_file), model_name_or_path=str(tiny_model_dir), output_dir=str(out), max_train_steps=1
    )
    assert metrics["status"] == "done" and (out / "model.safetensors").stat().st_mtime_ns == stamp


def test_packing_and_gradient_checkpointing_run(tmp_path, tiny_model_dir, train_file):
    from lumos.training.model import load_model, load_tokenizer

    args = TrainArgs(train_file=str(train_file), model_name_or_path=str(tiny_model_dir), gradient_checkpointing=True)
    model = load_model(args, load_tokenizer(args))
    assert (
        getattr(model, "is_activation_checkpointing", None) or model.is_gradient_checkpointing
    )  # applied to full fine-tuning too (the original ignored it)
    out = tmp_path / "run"
    metrics = run_train(
        train_file=str(train_file),
        model_name_or_path=str(tiny_model_dir),
        output_dir=str(out),
        max_train_steps=2,
        packing=True,
        gradient_checkpointing=True,
    )
    assert metrics["real_token_share"] == 1.0 and metrics["completed_steps"] == 2


def test_lora_run_saves_adapter_and_merged_model(tmp_path, tiny_model_dir, train_file):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = tmp_path / "lora"
    run_train(
        train_file=str(train_file),
        model_name_or_path=str(tiny_model_dir),
        output_dir=str(out),
        max_train_steps=2,
        use_lora=True,
        lora_rank=4,
        lora_target_modules=["q_proj", "v_proj"],
        gradient_checkpointing=True,
    )
    assert (out / "adapter" / "adapter_model.safetensors").is_file()
    merged = AutoModelForCausalLM.from_pretrained(out)
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    q = "model.layers.0.self_attn.q_proj.weight"
    assert not torch.equal(merged.state_dict()[q], base.state_dict()[q])
    k = "model.layers.0.self_attn.k_proj.weight"
    assert torch.equal(merged.state_dict()[k], base.state_dict()[k])
    tok = AutoTokenizer.from_pretrained(out)
    assert tok.apply_chat_template(PLAN[:1], tokenize=False, add_generation_prompt=True).endswith("<|assistant|>\n")


def test_pad_token_added_when_missing(tmp_path, tiny_tokenizer, tiny_model):
    from lumos.training.model import load_model, load_tokenizer

    folder = tmp_path / "nopad"
    tok = tiny_tokenizer.__class__.from_pretrained(str(_save(tiny_tokenizer, tiny_model, folder)))
    tok.pad_token = None
    tok.save_pretrained(folder)
    cfg = json.loads((folder / "tokenizer_config.json").read_text())
    cfg.pop("pad_token", None)
    (folder / "tokenizer_config.json").write_text(json.dumps(cfg))
    tj = json.loads((folder / "tokenizer.json").read_text())
    tj["added_tokens"] = [t for t in tj["added_tokens"] if t["content"] != "<pad>"]
    tj["model"]["vocab"].pop("<pad>", None)
    (folder / "tokenizer.json").write_text(json.dumps(tj))
    args = TrainArgs(train_file="x", model_name_or_path=str(folder))
    rows = tiny_model.get_input_embeddings().weight.shape[0]
    tokenizer = load_tokenizer(args)
    assert tokenizer.pad_token == "<pad>" and tokenizer.pad_token_id == len(tokenizer) - 1
    model = load_model(args, tokenizer)
    assert model.get_input_embeddings().weight.shape[0] == len(tokenizer) > rows - 1
    assert model.config.pad_token_id == tokenizer.pad_token_id


def _save(tokenizer, model, folder: Path) -> Path:
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_qlora_without_bitsandbytes_says_what_to_install(tiny_model_dir):
    import importlib.util

    from lumos.training.model import load_model, load_tokenizer

    if importlib.util.find_spec("bitsandbytes") is not None:
        pytest.skip("bitsandbytes is installed")
    args = TrainArgs(train_file="x", model_name_or_path=str(tiny_model_dir), use_qlora=True)
    with pytest.raises(ImportError, match="pip install bitsandbytes"):
        load_model(args, load_tokenizer(args))


def test_train_sh_on_cpu(tmp_path, tiny_model_dir, train_file):
    """The done-when command shape, on the tiny model: ./train.sh plan iterative with MAX_STEPS=2."""
    out = tmp_path / "ckpt"
    env = env_for_subprocess(
        TASK="maths",
        TRAIN_FILE=str(train_file),
        OUTPUT_DIR=str(out),
        MODEL_NAME_OR_PATH=str(tiny_model_dir),
        MAX_STEPS="2",
    )
    proc = subprocess.run(
        [str(REPO / "train.sh"), "plan", "iterative", "--report_to", "none"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["completed_steps"] == 2 and metrics["config"]["packing"] is True  # configs/train/cpu.yaml merged
    assert (out / "model.safetensors").is_file() and (out / "chat_template.jinja").is_file()


def test_train_sh_usage():
    proc = subprocess.run([str(REPO / "train.sh"), "plan", "sideways"], capture_output=True, text=True)
    assert proc.returncode == 2 and "iterative|onetime" in proc.stderr
