"""Names and locations shared by training, data building and evaluation.

``checkpoint_name("complex_qa", "plan", "iterative") == "lumos_complex_qa_plan_iterative"`` matches
the released ``ai2lumos/*`` repositories and the directories evaluation reads.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

Module = Literal["plan", "ground"]
Formulation = Literal["lumos_iterative", "lumos_onetime", "cot", "direct"]
FORMULATIONS: tuple[str, ...] = ("lumos_iterative", "lumos_onetime", "cot", "direct")
MODULES: tuple[str, ...] = ("plan", "ground")
# Training recipes: a module and formulation, or a baseline (configs/train/<recipe>.yaml).
RECIPES: tuple[str, ...] = ("plan_iterative", "plan_onetime", "ground_iterative", "ground_onetime", "cot", "direct",
                            "integrated")  # fmt: skip

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_BASE_MODEL = REPO_ROOT / "models" / "smollm2-135m-instruct"


def check_choice(value: str, choices: tuple[str, ...], what: str) -> str:
    """Return ``value`` if it is one of ``choices``; else raise ``ValueError`` listing them."""
    if value not in choices:
        raise ValueError(f"unknown {what} {value!r}; expected one of {', '.join(choices)}")
    return value


def checkpoint_name(domain: str, module: str, formulation: str) -> str:
    """``lumos_<domain>_<module>_<iterative|onetime>`` for Lumos; ``<domain>_<cot|direct>`` for baselines."""
    formulation = formulation.removeprefix("lumos_")
    if formulation in ("cot", "direct"):
        return f"{domain}_{formulation}"
    check_choice(module, MODULES, "module")
    check_choice(formulation, ("iterative", "onetime"), "formulation")
    return f"lumos_{domain}_{module}_{formulation}"


def recipe_name(task: str, recipe: str) -> str:
    """The training file's and the output folder's name of a recipe: ``checkpoint_name`` for the modules and
    baselines (``lumos_maths_plan_iterative``, ``maths_cot``), ``lumos_<task>_integrated`` for integrated training."""
    check_choice(recipe, RECIPES, "recipe")
    if recipe == "integrated":
        return f"lumos_{task}_integrated"
    if recipe in ("cot", "direct"):
        return checkpoint_name(task, "", recipe)
    module, formulation = recipe.split("_")
    return checkpoint_name(task, module, formulation)


def data_dir(explicit: str | Path | None = None) -> Path | None:
    """The benchmark data directory: ``explicit``, else ``$LUMOS_DATA_DIR``, else None."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("LUMOS_DATA_DIR")
    return Path(env) if env else None
