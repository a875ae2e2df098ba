"""WebShop's demonstrations and prompts, byte for byte as the original evaluation built them.

The expected strings are assembled by hand from the documented layout; the SHA-256 pins were checked
against the original evaluation code's output.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from lumos.formats.prompts import GROUND_INSTRUCTION
from lumos.formats.webshop_prompts import (
    GROUND_EXAMPLARS,
    PLAN_EXAMPLARS,
    first_action_line,
    ground_prefix,
    ground_prompt,
    plan_prefix,
    plan_prompt,
    subgoal_text,
)

PLAN = "Please provide a reasonable subgoal-based plan to solve the given task.\n"
I1 = ("Find me slim fit, loose fit women's tops, tees & blouses with long sleeve, short sleeve with color: a01#black, "
      "and size: large, and price lower than 50.00 dollars")
S1 = ["Subgoal 1: Search two relevant items and the product names according to the instruction.",
      "Subgoal 2: Select the most relevant features of item b09s3bn15c.",
      "Subgoal 3: Select the most relevant features of item b094q7b3ss.",
      "Subgoal 4: Pick up the most related one from the two relevant items according to the product names and their features.",
      "Subgoal 5: Buy this item by selecting its relevant features."]
R1 = ["b09s3bn15c - Mens Linen Shirt,Men's Striped Shirts Casual Short Sleeve Button Down Shirts Regular Fit Hawaiian "
      "Shirts Beach Tees Tops ** b094q7b3ss - Women Cold Shoulder Tops, Summer Butterfly Print Shirts Fashion Casual "
      "Short Sleeve Plus-Size Tunic Top Tee and Blouse", "short, casual, shoulder", "black, large, x-large", "b094q7b3ss",
      "Done"]
A1 = [f"R1 = Search({I1}).", f"R2 = Click(b09s3bn15c); R3 = FeatureRetrieve(R2, Query: {I1}).",
      f"R4 = Click(< prev); R5 = Click(b094q7b3ss); R6 = FeatureRetrieve(R5, Query: {I1})",
      f"R7 = Pick(Item_names: R1, Item_features: [R3, R6], Query: {I1}).",
      "R8 = Click(< prev); R9 = Click(R7); R10 = Click(black); R11 = Click(large); R12 = Click(x-large); R13 = Click(buy now)."]


def test_demonstrations_pinned():
    assert [d["instruction"] for d in PLAN_EXAMPLARS] == [d["instruction"] for d in GROUND_EXAMPLARS]
    assert PLAN_EXAMPLARS[0]["instruction"] == I1
    digest = hashlib.sha256(json.dumps([PLAN_EXAMPLARS, GROUND_EXAMPLARS]).encode()).hexdigest()
    assert digest == "9d772cfc72dd7e83731ace824af27b23b5523df3ec7ad0117cfa70f341df1205"


def test_plan_prefix_by_hand():
    first = f"<|user|>\n{PLAN}Task: {I1}; Initial Environment Description: None.\n<|assistant|>\n"
    for k, (s, r) in enumerate(zip(S1, R1), 1):
        first += f"{s}\n\n<|user|>\nThe execution result for Subgoal {k} is {r}.\n<|assistant|>\n"
    first += "\n\n"
    prefix = plan_prefix()
    assert prefix.startswith(first)
    assert prefix.count("<|user|>\n") == 12 and prefix.endswith("The execution result for Subgoal 5 is Done.\n<|assistant|>\n\n\n")
    assert hashlib.sha256(prefix.encode()).hexdigest() == "f46abd4baecdb1fa0642466c93c1dc8d87e0caedc7658f6bd6b635d697feb3e5"


def test_ground_prefix_by_hand():
    first = f"<|user|>\n{GROUND_INSTRUCTION['webshop']}Task: {I1} \nSubgoal to be grounded: {S1[0]}\n<|assistant|>\n{A1[0]}"
    for s, a in zip(S1[1:], A1[1:]):
        first += f"\n\n<|user|>\nSubgoal to be grounded: {s}\n<|assistant|>\n{a}"
    first += "\n\n"
    prefix = ground_prefix()
    assert prefix.startswith(first)
    assert prefix.endswith("R11 = Click(16x20 inch); R12 = Click(buy now).\n\n")
    assert hashlib.sha256(prefix.encode()).hexdigest() == "f110719fbcbde89d37c8d7f172c9b95558c0e65c0c7410ae259c5a158a256ae4"


TASK = " i need a red dress, and price lower than 40.00 dollars "
PLANS = ["Subgoal 1: Search two relevant items.", "No, I will keep planning. Subgoal 2: Select features of item b0.",
         "No, I will keep planning. Subgoal 3: Buy it."]


def test_plan_prompt_with_feedback():
    start = f"<|user|>\n{PLAN}Task: {TASK.strip()}; Initial Environment Description: None.\n<|assistant|>\n"
    assert plan_prompt(TASK) == plan_prefix() + start
    history = [(PLANS[0], "b0 - Dress ** b1 - Gown *"), (PLANS[1], str(["back to search", "< prev", "red"]))]
    assert plan_prompt(TASK, history) == plan_prefix() + start + (
        f"{PLANS[0]}\n\n<|user|>\nThe executed result for Subgoal 1 is b0 - Dress ** b1 - Gown *\n<|assistant|>\n"
        f"{PLANS[1]}\n\n<|user|>\nThe executed result for Subgoal 2 is ['back to search', '< prev', 'red']\n<|assistant|>\n")


def test_ground_prompt_forced_prefix_and_styles():
    head = (f"{ground_prefix()}<|user|>\n{GROUND_INSTRUCTION['webshop']}Task: {TASK.strip()} \n"
            "Subgoal to be grounded: Subgoal 1: Search two relevant items.\n<|assistant|>\nR1 = ")
    assert ground_prompt(TASK, PLANS[:1]) == head
    outs = ["Search(red dress) ", "R2 = Click(b0); R3 = FeatureRetrieve(R2, Query: red)"]
    tail = ("\n\n<|user|>\nSubgoal to be grounded: Subgoal 2: Select features of item b0.\n<|assistant|>\n"
            "R2 = Click(b0); R3 = FeatureRetrieve(R2, Query: red)"
            "\n\n<|user|>\nSubgoal to be grounded: Subgoal 3: Buy it.\n<|assistant|>\n")
    assert ground_prompt(TASK, PLANS, outs) == head + "Search(red dress)" + tail
    assert ground_prompt(TASK, PLANS, outs, style="original") == head + "R1 = Search(red dress)" + tail
    with pytest.raises(ValueError, match="one grounding output per earlier subgoal"):
        ground_prompt(TASK, PLANS, outs[:1])


def test_first_action_line():
    assert first_action_line("Search(red dress)") == "R1 = Search(red dress)"
    assert first_action_line("R1 = Search(red dress)") == "R1 = Search(red dress)"
    assert first_action_line("Search(size 11") == "R1 = Search(size 11"
    # the original stripped characters, not a prefix
    assert first_action_line("Search(size 11", style="original") == "R1 = Search(size"
    assert first_action_line("R1 = Search(x)", style="original") == "R1 = Search(x)"
    assert subgoal_text(" No, I will keep planning. Subgoal 2: Pick. ") == "Subgoal 2: Pick."
