"""WebShop's in-context demonstrations and prompt builders, byte-identical to the original Lumos evaluation.

The released unified checkpoints were never trained on WebShop; the original evaluation put two worked
examples (``PLAN_EXAMPLARS``, ``GROUND_EXAMPLARS``: a women's-tops and a wall-art purchase, five subgoals
each) in front of every prompt. Those strings are kept verbatim here, quirks included (e.g. the grounding
demonstrations' actions end in ``).``). The builders assemble the exact prompt strings::

    plan:   <demos> <|user|>\\nPlease provide a reasonable subgoal-based plan to solve the given task.\\n
            Task: <instruction>; Initial Environment Description: None.\\n<|assistant|>\\n
            [<subgoal k>\\n\\n<|user|>\\nThe executed result for Subgoal k is <result>\\n<|assistant|>\\n ...]
    ground: <demos> <|user|>\\n<grounding instruction>Task: <instruction> \\nSubgoal to be grounded: <subgoal 1>\\n
            <|assistant|>\\nR1 = [<actions k>\\n\\n<|user|>\\nSubgoal to be grounded: <subgoal k+1>\\n<|assistant|>\\n ...]

A demonstration turn reads "The execution result for Subgoal k is <result>." while the live feedback reads
"The executed result for Subgoal k is <result>" (no period, no "Should we stop planning?"), as in the
original. The grounding prompt forces the first action's ``R1 = ``.

``style="original"`` reproduces the original's handling of the first grounding output, which stripped the
*characters* ``R``, ``1``, space and ``=`` from both ends of the completion and re-added ``"R1 = "``, so the
later prompts show ``R1 = R1 = Search(...)``. ``style="fixed"`` (default) removes one leading ``R1 = ``
prefix the model may have repeated and shows the first action once.

Exercise: ``pytest tests/formats/test_webshop_prompts.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

from lumos.formats.prompts import GROUND_INSTRUCTION, KEEP_PLANNING, PLAN_INSTRUCTION

PromptStyle = Literal["original", "fixed"]
FORCED_PREFIX = "R1 = "
_RESULTS = " || Results: "
_USER = "<|user|>\n"
_ASSISTANT = "<|assistant|>\n"

PLAN_EXAMPLARS: tuple[Mapping[str, str], ...] = (
    {
        "instruction": (
            "Find me slim fit, loose fit women's tops, tees & blouses with long sleeve, short sleeve with color: "
            'a01#black, and size: large, and price lower than 50.00 dollars'
        ),
        "subgoals": (
            'Subgoal 1: Search two relevant items and the product names according to the instruction. || '
            "Results: b09s3bn15c - Mens Linen Shirt,Men's Striped Shirts Casual Short Sleeve Button Down Shirts "
            'Regular Fit Hawaiian Shirts Beach Tees Tops ** b094q7b3ss - Women Cold Shoulder Tops, Summer '
            'Butterfly Print Shirts Fashion Casual Short Sleeve Plus-Size Tunic Top Tee and Blouse; Subgoal 2: '
            'Select the most relevant features of item b09s3bn15c. || Results: short, casual, shoulder; Subgoal '
            '3: Select the most relevant features of item b094q7b3ss. || Results: black, large, x-large; Subgoal '
            '4: Pick up the most related one from the two relevant items according to the product names and '
            'their features. || Results: b094q7b3ss; Subgoal 5: Buy this item by selecting its relevant '
            'features. || Results: Done.'
        ),
    },
    {
        "instruction": (
            'Find me ready hang wall art with solid wood for living room with color: turtles and african '
            'american couple, and size: 16x20 inch, and price lower than 70.00 dollars'
        ),
        "subgoals": (
            'Subgoal 1: Search two relevant items and the product names according to the instruction. || '
            'Results: b099wh1rtm - African American Wall Art Get Naked Fashion Black Girl And Bathtub Canvas '
            'Prints Gray Pink Painting Picture Modern Artwork For Bathroom Living Room Home Wall Decor Framed '
            'Ready To Hang 16x24 Inch ** b092qqbw4y - Sencillez Canvas Wall Art Abstract Regalite Turquoise '
            'Marble Mixed Colors Blue Teal Gold Foil Digital Art Modern Art Bohemian Colorful Multicolor Ultra '
            'for Living Room Bedroom Office (20x30 inches); Subgoal 2: Select the most relevant features of item '
            'b099wh1rtm. || Results: turtles and african american couple, 16x20 inch; Subgoal 3: Select the most '
            'relevant features of item b092qqbw4y. || Results: art, 16x24 Inch; Subgoal 4: Pick up the most '
            'related one from the two relevant items according to the product names and their features. || '
            'Results: b099wh1rtm; Subgoal 5: Buy this item by selecting its relevant features. || Results: Done.'
        ),
    },
)
GROUND_EXAMPLARS: tuple[Mapping[str, str], ...] = (
    {
        "instruction": (
            "Find me slim fit, loose fit women's tops, tees & blouses with long sleeve, short sleeve with color: "
            'a01#black, and size: large, and price lower than 50.00 dollars'
        ),
        "actions": (
            "Action 1-1: R1 = Search(Find me slim fit, loose fit women's tops, tees & blouses with long sleeve, "
            'short sleeve with color: a01#black, and size: large, and price lower than 50.00 dollars).; Action '
            '2-1: R2 = Click(b09s3bn15c) || Action 2-2: R3 = FeatureRetrieve(R2, Query: Find me slim fit, loose '
            "fit women's tops, tees & blouses with long sleeve, short sleeve with color: a01#black, and size: "
            'large, and price lower than 50.00 dollars).; Action 3-1: R4 = Click(< prev) || Action 3-2: R5 = '
            'Click(b094q7b3ss) || Action 3-3: R6 = FeatureRetrieve(R5, Query: Find me slim fit, loose fit '
            "women's tops, tees & blouses with long sleeve, short sleeve with color: a01#black, and size: large, "
            'and price lower than 50.00 dollars); Action 4-1: R7 = Pick(Item_names: R1, Item_features: [R3, R6], '
            "Query: Find me slim fit, loose fit women's tops, tees & blouses with long sleeve, short sleeve with "
            'color: a01#black, and size: large, and price lower than 50.00 dollars).; Action 5-1: R8 = Click(< '
            'prev) || Action 5-2: R9 = Click(R7) || Action 5-3: R10 = Click(black) || Action 5-4: R11 = '
            'Click(large) || Action 5-5: R12 = Click(x-large) || Action 5-6: R13 = Click(buy now).'
        ),
    },
    {
        "instruction": (
            'Find me ready hang wall art with solid wood for living room with color: turtles and african '
            'american couple, and size: 16x20 inch, and price lower than 70.00 dollars'
        ),
        "actions": (
            'Action 1-1: R1 = Search(Find me ready hang wall art with solid wood for living room with color: '
            'turtles and african american couple, and size: 16x20 inch, and price lower than 70.00 dollars).; '
            'Action 2-1: R2 = Click(b099wh1rtm) || Action 2-2: R3 = FeatureRetrieve(R2, Query: Find me ready '
            'hang wall art with solid wood for living room with color: turtles and african american couple, and '
            'size: 16x20 inch, and price lower than 70.00 dollars).; Action 3-1: R4 = Click(< prev) || Action '
            '3-2: R5 = Click(b092qqbw4y) || Action 3-3: R6 = FeatureRetrieve(R5, Query: Find me ready hang wall '
            'art with solid wood for living room with color: turtles and african american couple, and size: '
            '16x20 inch, and price lower than 70.00 dollars).; Action 4-1: R7 = Pick(Item_names: R1, '
            'Item_features: [R3, R6], Query: Find me ready hang wall art with solid wood for living room with '
            'color: turtles and african american couple, and size: 16x20 inch, and price lower than 70.00 '
            'dollars).; Action 5-1: R8 = Click(< prev) || Action 5-2: R9 = Click(R7) || Action 5-3: R10 = '
            'Click(turtles and african american couple) || Action 5-4: R11 = Click(16x20 inch) || Action 5-5: '
            'R12 = Click(buy now).'
        ),
    },
)


def _demo_subgoals(demo: Mapping[str, str]) -> list[tuple[str, str]]:
    """``[(subgoal line, result)]`` of a plan demonstration."""
    out = []
    for i, part in enumerate(demo["subgoals"].split("; Subgoal ")):
        text = part if i == 0 else f"Subgoal {part}"
        subgoal, result = text.split(_RESULTS)[0], text.split(_RESULTS)[1]
        out.append((subgoal, result))
    return out


def _demo_actions(demo: Mapping[str, str]) -> list[str]:
    """The action line of each subgoal of a grounding demonstration (``"R2 = Click(...); R3 = ..."``)."""
    lines = []
    for part in demo["actions"].split("; Action "):
        acts = [a[a.find(":") + 1:].strip() for a in f"Action {part}".split(" || ")]
        lines.append("; ".join(acts))
    return lines


def plan_prefix() -> str:
    """The two planning demonstrations, each a full dialogue followed by a blank line."""
    out = ""
    for demo in PLAN_EXAMPLARS:
        out += f"{_USER}{PLAN_INSTRUCTION}Task: {demo['instruction'].strip()}; Initial Environment Description: None.\n{_ASSISTANT}"
        for k, (subgoal, result) in enumerate(_demo_subgoals(demo), 1):
            out += f"{subgoal.strip()}\n\n{_USER}The execution result for Subgoal {k} is {result.strip('.')}.\n{_ASSISTANT}"
        out += "\n\n"
    return out


def plan_prompt(task: str, history: Sequence[tuple[str, str]] = ()) -> str:
    """The planning prompt for ``task`` after the executed subgoals ``history`` = ``[(plan output, result)]``.

    ``result`` is the text of the subgoal's last result as the original showed it (``str(value)``, so a
    list of clickables appears as its Python repr).
    """
    out = f"{plan_prefix()}{_USER}{PLAN_INSTRUCTION}Task: {task.strip()}; Initial Environment Description: None.\n{_ASSISTANT}"
    for k, (subgoal, result) in enumerate(history, 1):
        out += f"{subgoal.strip()}\n\n{_USER}The executed result for Subgoal {k} is {result}\n{_ASSISTANT}"
    return out


def ground_prefix() -> str:
    """The two grounding demonstrations (instruction, then one turn per subgoal), each followed by a blank line."""
    out = ""
    for plan_demo, demo in zip(PLAN_EXAMPLARS, GROUND_EXAMPLARS):
        subgoals = [s for s, _ in _demo_subgoals(plan_demo)]
        out += f"{_USER}{GROUND_INSTRUCTION['webshop']}Task: {demo['instruction'].strip()}"
        for k, line in enumerate(_demo_actions(demo)):
            if k == 0:
                out += f" \nSubgoal to be grounded: {subgoals[k]}\n{_ASSISTANT}"
            else:
                out += f"\n\n{_USER}Subgoal to be grounded: {subgoals[k]}\n{_ASSISTANT}"
            out += line
        out += "\n\n"
    return out


def subgoal_text(plan_output: str) -> str:
    """The subgoal as the grounding prompt shows it: the plan output after ``No, I will keep planning.``, stripped."""
    return plan_output.split(KEEP_PLANNING.strip())[-1].strip()


def first_action_line(completion: str, style: PromptStyle = "fixed") -> str:
    """The first subgoal's action line from the completion after the forced ``R1 = ``.

    ``original``: ``"R1 = " + completion.strip("R1 = ")`` (strips those characters from both ends);
    ``fixed``: ``"R1 = " + completion`` with one repeated leading ``R1 = `` removed.
    """
    if style == "original":
        return FORCED_PREFIX + completion.strip(FORCED_PREFIX)
    if style != "fixed":
        raise ValueError(f"unknown prompt style {style!r}; choose original or fixed")
    text = completion.strip()
    return FORCED_PREFIX + text.removeprefix(FORCED_PREFIX).lstrip()


def ground_prompt(
    task: str, plan_outputs: Sequence[str], ground_outputs: Sequence[str] = (), *, style: PromptStyle = "fixed"
) -> str:
    """The grounding prompt for the last of ``plan_outputs`` after the earlier subgoals were grounded.

    Args:
        task: the instruction.
        plan_outputs: the plan module's outputs for subgoals 1..n (``"No, I will keep planning. Subgoal 2: ..."``).
        ground_outputs: the grounding outputs for subgoals 1..n-1 as generated (the first one is the completion
            after the forced ``R1 = ``).
        style: how the first completion is shown (see ``first_action_line``).
    """
    if len(ground_outputs) != len(plan_outputs) - 1:
        raise ValueError(f"need one grounding output per earlier subgoal: {len(plan_outputs)} subgoals, "
                         f"{len(ground_outputs)} outputs")
    out = (f"{ground_prefix()}{_USER}{GROUND_INSTRUCTION['webshop']}Task: {task.strip()} \n"
           f"Subgoal to be grounded: {subgoal_text(plan_outputs[0])}\n{_ASSISTANT}{FORCED_PREFIX}")
    for k, output in enumerate(ground_outputs):
        if k > 0:
            shown = output.strip()
        elif style == "original":
            shown = first_action_line(output, "original").strip()
        else:
            shown = first_action_line(output, "fixed").removeprefix(FORCED_PREFIX)
        out += f"{shown}\n\n{_USER}Subgoal to be grounded: {subgoal_text(plan_outputs[k + 1])}\n{_ASSISTANT}"
    return out
