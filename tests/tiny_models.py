"""A tiny random LLaMA and a small byte-level BPE tokenizer, built in code (no download).

Import as ``from tiny_models import build_tiny_tokenizer, build_tiny_model`` (``tests/`` is on
``sys.path``); the fixtures in ``tests/conftest.py`` wrap them. A plain module, not ``conftest``: a
subfolder's ``conftest.py`` would shadow ``from conftest import ...``.
"""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"

_CORPUS = [
    "<|user|>\nPlease provide a reasonable subgoal-based plan to solve the given task.\n",
    "Task: Natalia sold clips to 48 of her friends in April; Initial Environment Description: None.\n",
    "<|assistant|>\nSubgoal 1: Calculate how many clips Natalia sold in May.</s>\n",
    "The executed result for Subgoal 1 is 24. Should we stop planning?\n",
    "No, I will keep planning. Subgoal 2: Add the clips. Yes, I will stop planning.",
    "R1 = Calculator(48 / 2); R2 = Calculator(48 + R1); R3 = KnowledgeQuery(Ada Lovelace)",
    "R4 = ParagraphRetrieve(R3, Query: Who was the father of Ada Lovelace?); R5 = QA([R4], Question: x)",
    "Subgoal to be grounded: The grounding could be based on the following results: 0123456789",
]


def build_tiny_tokenizer():
    """A ~600-token byte-level BPE tokenizer that adds BOS like LLaMA's."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=600,
        special_tokens=["<unk>", "<s>", "</s>", "<pad>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(_CORPUS * 4, trainer=trainer)
    bos = tok.token_to_id("<s>")
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", bos)])
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<pad>"
    )


def build_tiny_model(vocab_size: int, seed: int = 0):
    """A 2-layer LLaMA with hidden size 32 (about 50k parameters)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    cfg = LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=3,
    )
    return LlamaForCausalLM(cfg)
