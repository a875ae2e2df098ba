"""Exact-byte tests of every prompt template against the original's strings (typed out here, not imported)."""

import re

from lumos.formats import prompts as P


def test_plan_prompts_exact():
    assert P.plan_first_user("Q?") == (
        "Please provide a reasonable subgoal-based plan to solve the given task.\nTask: Q?; Initial Environment Description: None."
    )
    assert P.plan_feedback_user(2, "American") == "The executed result for Subgoal 2 is American. Should we stop planning?"
    assert P.plan_feedback_web_user("Subgoal 3: Type Atlanta in the departure box.") == (
        "We have already type Atlanta in the departure box. Should we stop planning?"
    )
    assert P.KEEP_PLANNING == "No, I will keep planning. "
    assert P.STOP_PLANNING == "Yes, I will stop planning."


def test_conversion_strings_keep_original_typos():
    assert P.CONVERSION_SYSTEM == (
        "You are a helpful assist to convert natural language plans or structural action listinto "
        "subgoal-based plans and their corresponding structured actions."
    )
    assert "corresponding actionsthat lead" in P.CONVERSION_HEADER
    assert "without generatingany exact values" in P.CONVERSION_HEADER
    assert P.CONVERSION_HEADER.endswith("they must be one of <ACTIONS>.\n\n")
    assert P.CONVERSION_CLOSING_SPACED.endswith("natural language plan! \n\n")


def test_ground_instructions_exact():
    maths = P.GROUND_INSTRUCTION["maths"]
    assert maths.startswith(
        "Please ground the given subgoal to corresponding executable actions for solving the given task. "
        "The grounded actions must be the one in available action list.\n\nThe available action list is "
        "'Calculator', 'SetEquation', 'SolveEquation', 'Count', 'SolveInequality', 'Code', and 'Define'.\n"
    )
    assert maths.endswith("Define(variable/number): Define a variable or a number for latter usage.\n\n")
    qa = P.GROUND_INSTRUCTION["complex_qa"]
    assert qa.count("Calculator(formula): Calculate the input formula;") == 2  # listed twice in the original
    assert qa.endswith("Code(pseudo_code): Generate a Python function that corresponds to the pseudo code.\n\n")
    web = P.GROUND_INSTRUCTION["web_agent"]
    assert "The available action list is 'CLICK', 'TYPE', 'SELECT'.\nCLICK(Env, Query): Click" in web
    shop = P.GROUND_INSTRUCTION["webshop"]
    assert "'Search', 'FeatureRetrieve', 'Pick' and 'Click'.\nSearch(Query)" in shop
    for domain, names in P.GROUND_ACTIONS.items():
        listed = P.GROUND_INSTRUCTION[domain].split("The available action list is ")[1].split("\n")[0]
        assert re.findall(r"'([^']+)'", listed) == list(names)


def test_ground_user_turns_exact():
    g = P.GROUND_INSTRUCTION["complex_qa"]
    assert P.ground_first_user("complex_qa", "Q?", "Subgoal 1: A.") == g + "Task: Q? \nSubgoal to be grounded: Subgoal 1: A.\n"
    assert P.ground_onetime_user("maths", "T", ["Subgoal 1: A.", "Subgoal 2: B."]) == (
        P.GROUND_INSTRUCTION["maths"] + "Task: T \nSubgoals to be grounded: Subgoal 1: A.; Subgoal 2: B.\n"
    )
    assert P.ground_next_user("Subgoal 2: B.") == "Subgoal to be grounded: Subgoal 2: B.\n"
    results = {"Subgoal 1": "American.", "Subgoal 10": "x.", "Subgoal 2": "y."}
    assert P.ground_next_user("Subgoal 11: C.", results) == (
        "Subgoal to be grounded: Subgoal 11: C. The grounding could be based on the following results:"
        " The execution result for Subgoal 1 is American. The execution result for Subgoal 10 is x."
        " The execution result for Subgoal 2 is y.\n"
    )


def test_qa_and_judge_templates():
    assert P.QA_WITH_CONTEXT.format(question="q", context="c").endswith("explanations.\n\nQuestion: q\nContext: c\n")
    assert P.QA_FORCED.format(question="q") == (
        "Please answer the following question. Please answer with one brief entity, beginning with 'Answer: '.\n\nQuestion: q\n"
    )
    assert P.JUDGE.format(question="q", prediction="p", answer="a").endswith(
        "Question: q\nModel prediction: p\nGround-truth answer: a\n"
    )
