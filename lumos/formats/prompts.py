"""Every prompt string of the original Lumos, verbatim (typos and missing spaces included).

The released ``ai2lumos/*`` checkpoints were trained on these exact bytes, so nothing here may be
"fixed". Builders at the bottom assemble the user turns of the planning and grounding dialogues;
training-data building (``lumos.conversion``) and evaluation (``lumos.agent``) both call them.

Example (the first plan turn of a HotpotQA task)::

    >>> plan_first_user("Were Scott Derrickson and Ed Wood of the same nationality?")
    'Please provide a reasonable subgoal-based plan to solve the given task.\\nTask: Were Scott ...; Initial Environment Description: None.'

Exercise: ``pytest tests/formats/test_prompts.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

Domain = Literal["maths", "complex_qa", "web_agent", "multimodal", "unified"]
GroundDomain = Literal["maths", "complex_qa", "web_agent", "webshop", "intercode_sql"]

DOMAINS: tuple[str, ...] = ("maths", "complex_qa", "web_agent", "multimodal")

# --------------------------------------------------------------------------------------------
# Annotation conversion (docs/original.md): the system message and the shared header of the
# instruction blocks. ``<ACTIONS>`` is replaced by the domain's action list.
# --------------------------------------------------------------------------------------------
CONVERSION_SYSTEM = (
    "You are a helpful assist to convert natural language plans or structural action list"
    "into subgoal-based plans and their corresponding structured actions."
)
CONVERSION_HEADER = (
    "Please convert natural language plans into a series of subgoals and their corresponding actions"
    "that lead to the successful implementation with respect to the given instructions. Please use "
    "'R[number]' to represent the intermediate results for each subgoal, without generating"
    "any exact values. Please also use functions to represent the corresponding actions. For the "
    "actions, they must be one of <ACTIONS>.\n\n"
)
# The maths blocks close without a space before the blank line; QA / web / SQL blocks with one.
CONVERSION_CLOSING = (
    "Now please help us generate a plan consisting of subgoals according to the following "
    "instruction and its natural language plan!\n\n"
)
CONVERSION_CLOSING_SPACED = (
    "Now please help us generate a plan consisting of subgoals according to the following "
    "instruction and its natural language plan! \n\n"
)
CONVERSION_ACTIONS: Mapping[str, str] = {
    "maths_prm": "'Calculator', 'SetEquation', 'SolveEquation', 'Count', 'SolveInequality', 'Code', and 'Define'",
    "maths_gsm": "'Calculator', 'SolveEquation', 'Count', and 'Define'",
    "complex_qa": "'KnowledgeQuery', 'ParagraphRetrieve', 'QA', 'Calculator' and 'Code'",
    "web_agent": "'TYPE', 'CLICK', and 'SELECT'",
}


def conversion_user(instruction_block: str, task: str, plan: str) -> str:
    """The user message of one conversion request: block + ``Task:`` + ``Natural language plan:``."""
    return f"{instruction_block}Task: {task}\n\nNatural language plan: {plan}\n\n"


# --------------------------------------------------------------------------------------------
# Planning module (docs/original.md, "Agent loop", "Training files")
# --------------------------------------------------------------------------------------------
PLAN_INSTRUCTION = "Please provide a reasonable subgoal-based plan to solve the given task.\n"
KEEP_PLANNING = "No, I will keep planning. "
STOP_PLANNING = "Yes, I will stop planning."
STOP_MARKER = "Yes, I will stop planning"


def plan_first_user(task: str, observation: str = "None.") -> str:
    """First user turn of every planning dialogue (iterative and one-time).

    ``observation`` is the Initial Environment Description: ``None.`` for every task of the original
    (maths, QA, web, shop); an SQL episode lists its database's tables there.
    """
    return f"{PLAN_INSTRUCTION}Task: {task}; Initial Environment Description: {observation}"


def plan_feedback_user(k: int, result: str) -> str:
    """Feedback after subgoal ``k`` was executed (maths, complex QA)."""
    return f"The executed result for Subgoal {k} is {result}. Should we stop planning?"


def plan_feedback_web_user(subgoal_line: str) -> str:
    """Feedback after a web subgoal: ``We have already <subgoal, lower-cased first letter>.``

    ``subgoal_line`` is the full ``Subgoal k: Text.`` line; the prefix up to ``': '`` and one
    trailing period are removed, as the original did.
    """
    text = subgoal_line.split(": ", 1)[1] if ": " in subgoal_line else subgoal_line
    if text.endswith("."):
        text = text[:-1]
    text = text[:1].lower() + text[1:]
    return f"We have already {text}. Should we stop planning?"


# --------------------------------------------------------------------------------------------
# Grounding module (docs/original.md, "Agent loop", "Training files"); webshop: the WebShop prompt
# --------------------------------------------------------------------------------------------
_GROUND_HEAD = (
    "Please ground the given subgoal to corresponding executable actions for solving the given task. "
    "The grounded actions must be the one in available action list.\n\n"
)
GROUND_INSTRUCTION: dict[str, str] = {
    "maths": _GROUND_HEAD
    + "The available action list is 'Calculator', 'SetEquation', 'SolveEquation', 'Count', "
    "'SolveInequality', 'Code', and 'Define'.\n"
    "Calculator(formula): Calculate the input formula; SetEquation(equation): Set up an equation to be "
    "solved; SolveEquation(equation): Solve the previous set equation; Count(list): Count the number of "
    "elements in the given list; SolveInequality(inequality): Solve the previous set inequality; "
    "Code(pseudo_code): Generate a Python function that corresponds to the pseudo code; "
    "Define(variable/number): Define a variable or a number for latter usage.\n\n",
    "complex_qa": _GROUND_HEAD
    + "The available action list is 'KnowledgeQuery', 'ParagraphRetrieve', 'QA', 'Calculator', and 'Code'.\n"
    "Calculator(formula): Calculate the input formula; KnowledgeQuery(query): Capture the relevant "
    "webpages according to the query; ParagraphRetrieve(context, query): Given a query, retrieve the most "
    "relevant paragraphs from the given context; QA(context, query): Given context, answer the given "
    "query; Calculator(formula): Calculate the input formula; Code(pseudo_code): Generate a Python "
    "function that corresponds to the pseudo code.\n\n",
    "web_agent": _GROUND_HEAD
    + "The available action list is 'CLICK', 'TYPE', 'SELECT'.\n"
    "CLICK(Env, Query): Click the relevant html region in Env according to Query; TYPE(Env, Query, Text): "
    "Type Text into the relevant html region in Env according to Query; SELECT(Env, Query, Text): Select "
    "the value Text of the relevant selection box in Env according to Query.\n\n",
    "webshop": _GROUND_HEAD
    + "The available action list is 'Search', 'FeatureRetrieve', 'Pick' and 'Click'.\n"
    "Search(Query): Search related items according to the Query; FeatureRetrieve(Feature_list, Query): "
    "Select the most relevant features from Feature_list according to Query; Pick(Item_names, "
    "Item_features, Query): Pick the most relevant item from Item_names according to Query, Item_names "
    "and Item_features; Click(Item): Click the Item to check more information.\n\n",
}

# The action names each grounding prompt advertises (in the order first mentioned).
GROUND_ACTIONS: dict[str, tuple[str, ...]] = {
    "maths": ("Calculator", "SetEquation", "SolveEquation", "Count", "SolveInequality", "Code", "Define"),
    "complex_qa": ("KnowledgeQuery", "ParagraphRetrieve", "QA", "Calculator", "Code"),
    "web_agent": ("CLICK", "TYPE", "SELECT"),
    "webshop": ("Search", "FeatureRetrieve", "Pick", "Click"),
}


def _instruction(domain: str) -> str:
    try:
        return GROUND_INSTRUCTION[domain]
    except KeyError:
        raise ValueError(f"no grounding instruction for domain {domain!r}; choose one of {sorted(GROUND_INSTRUCTION)}") from None


def ground_first_user(domain: str, task: str, subgoal_line: str) -> str:
    """First grounding request (Lumos-I): instruction + ``Task: <task> \\nSubgoal to be grounded: ...``."""
    return f"{_instruction(domain)}Task: {task} \nSubgoal to be grounded: {subgoal_line}\n"


def ground_onetime_user(domain: str, task: str, subgoal_lines: list[str]) -> str:
    """The single grounding request of Lumos-O: all subgoals joined by ``"; "``."""
    return f"{_instruction(domain)}Task: {task} \nSubgoals to be grounded: {'; '.join(subgoal_lines)}\n"


def ground_next_user(subgoal_line: str, previous_results: Mapping[str, str] | None = None) -> str:
    """A later grounding request of Lumos-I.

    Args:
        subgoal_line: the ``Subgoal k: ...`` line to ground.
        previous_results: complex QA only: ``{"Subgoal N": result}`` of earlier subgoals. They are
            listed in lexicographic key order (``Subgoal 10`` before ``Subgoal 2``), as in training.
            ``None`` (maths, web) gives the bare request.
    """
    if previous_results is None:
        return f"Subgoal to be grounded: {subgoal_line}\n"
    listed = "".join(f" The execution result for {key} is {previous_results[key]}" for key in sorted(previous_results))
    return f"Subgoal to be grounded: {subgoal_line} The grounding could be based on the following results:{listed}\n"


# --------------------------------------------------------------------------------------------
# LLM tools of the evaluation (docs/original.md, "Complex-QA tools", "Metrics"): QA and the opt-in accuracy judge.
# --------------------------------------------------------------------------------------------
QA_WITH_CONTEXT = (
    "Please answer the following question according to the context. Please answer with one brief entity, "
    "beginning with 'Answer: '. If the answer can't be found in the context, answer 'No answer'. No more "
    "details and explanations.\n\nQuestion: {question}\nContext: {context}\n"
)
QA_WITHOUT_CONTEXT = (
    "Please answer the following question. Please answer with one brief entity, beginning with 'Answer: '. "
    "If the answer can't be answered, output 'No answer'. No more details and explanations.\n\n"
    "Question: {question}\n"
)
QA_FORCED = (
    "Please answer the following question. Please answer with one brief entity, beginning with 'Answer: '."
    "\n\nQuestion: {question}\n"
)
MUST_ANSWER_YES_NO = " Must answer yes/no."
JUDGE = (
    "Please judge whether the model prediction can be regarded as correct according to the given question "
    "and its ground-truth answer. Please answer 'CORRECT' or 'INCORRECT'. No more details and "
    "explanations.\n\nQuestion: {question}\nModel prediction: {prediction}\nGround-truth answer: {answer}\n"
)


# --------------------------------------------------------------------------------------------
# InterCode-SQL (unseen task). The original has no SQL agent, so everything below is our design in the unified
# format: the task is the question, the initial environment description lists the database's tables (in the
# words of ``instruction_icode_sql``'s plans, "We have N SQL tables: ..."), and the grounding instruction follows
# GROUND_INSTRUCTION's layout with the actions of ``instruction_icode_sql``'s examples. The original's block itself
# is ``lumos.conversion.instructions.INSTRUCTION_ICODE_SQL`` (byte-identical).
# --------------------------------------------------------------------------------------------
GROUND_INSTRUCTION_SQL = (
    _GROUND_HEAD
    + "The available action list is 'SHOW TABLES', 'DESCRIBE' and 'SELECT'.\n"
    "SHOW TABLES: List all the tables in the database; DESCRIBE table: List the columns of the table and their "
    "types; SELECT ...: Execute the SQL query and return its rows. A part of the final query (the selection "
    "objects such as 'Name FROM singer', a condition, or an ORDER BY clause) is written without an action and "
    "kept as the value of its variable.\n\n"
)


GROUND_INSTRUCTION["intercode_sql"] = GROUND_INSTRUCTION_SQL  # type: ignore[index]
GROUND_ACTIONS["intercode_sql"] = ("SHOW TABLES", "DESCRIBE", "SELECT")  # type: ignore[index]
GROUND_ACTIONS_SQL = GROUND_ACTIONS["intercode_sql"]


def sql_environment_description(tables: list[str] | tuple[str, ...]) -> str:
    """The initial environment description of an SQL task: ``"We have 2 SQL tables: people, poker_player."``"""
    return f"We have {len(tables)} SQL tables: {', '.join(tables)}."
