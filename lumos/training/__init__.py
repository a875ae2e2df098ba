"""Fine-tuning the Lumos plan and ground modules (docs/original.md, "Training"): arguments, data, the loop, LoRA merging.

Entry points: ``./train.sh plan iterative`` -> ``python -m lumos.training.finetune CONFIG.yaml --key value``;
``python -m lumos.training.merge_lora``. Heavy libraries are imported by the functions that use them.
"""

from lumos.training.args import TrainArgs, parse_args
from lumos.training.dataset import Collator, DatasetStats, Example, load_examples, tokenize_conversation

__all__ = ["Collator", "DatasetStats", "Example", "TrainArgs", "load_examples", "parse_args", "tokenize_conversation"]
