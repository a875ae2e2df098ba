"""Official metrics (MindAct's definitions), the oracle on the real test splits, and the scorer command."""

from __future__ import annotations

import json

import pytest

from lumos.envs.mind2web import Operation, op_f1, recall_at_k, score_predictions, score_step, target_action
from lumos.envs.mind2web.score import main as score_main
from lumos.utils.io import DataFormatError


@pytest.mark.parametrize(("pred", "label", "f1"), [
    ("CLICK", "CLICK", 1.0),
    ("", "", 1.0),
    ("CLICK ", "TYPE Boston", 0.0),
    ("", "CLICK", 0.0),
    ("TYPE new york", "TYPE New York", 1 / 3),            # case-sensitive tokens
    ("TYPE New  York", "TYPE New York", 1.0),             # whitespace tokens
    ("TYPE York New York", "TYPE New York", 1.0),         # token sets
    ("SELECT 2 adults", "SELECT 2", 0.8),
])
def test_op_f1_is_mindacts_token_set_f1(pred, label, f1):
    assert op_f1(pred, label) == pytest.approx(f1)


def test_gold_string_drops_click_values_and_keeps_first_line():
    assert target_action(Operation("CLICK", "ignored")) == "CLICK"
    assert target_action(Operation("TYPE", "Boston\nMA")) == "TYPE Boston"


def _pred(element, operation="CLICK", value=""):
    return {"annotation_id": "a", "action_uid": "u", "element": element, "operation": operation, "value": value}


def test_step_scores(official_tasks):
    type_step = official_tasks[0].steps[1]  # TYPE Columbus into element 114
    assert score_step("a", type_step, _pred("114", "TYPE", "Columbus")).success == 1.0
    s = score_step("a", type_step, _pred("114", "TYPE", "columbus"))
    assert (s.element, s.op_f1, s.success, s.lumos_success) == (1.0, 0.5, 0.0, 1.0)  # Lumos compared ignoring case
    s = score_step("a", type_step, _pred("116", "TYPE", "Columbus"))
    assert (s.element, s.op_f1, s.success) == (0.0, 1.0, 0.0)
    s = score_step("a", type_step, _pred(None, "TYPE", "Columbus"))  # no element: all zero, as MindAct
    assert (s.element, s.op_f1, s.success, s.predicted) == (0.0, 0.0, 0.0, True)
    no_positive = official_tasks[2].steps[1]
    s = score_step("a", no_positive, _pred("703", "TYPE", "2"))
    assert (s.element, s.op_f1, s.success, s.has_positive) == (0.0, 0.0, 0.0, False)
    assert score_step("a", type_step, None).predicted is False


def test_micro_macro_task_aggregates(official_tasks):
    flights, recipes, mugs = official_tasks
    preds = [  # flights: 3/3 right; recipes: 1/2 right; mugs: 0/2, one missing
        *({"annotation_id": flights.annotation_id, "action_uid": s.action_uid, "element": s.pos_candidates[0].backend_node_id,
           "operation": s.operation.op, "value": s.operation.value} for s in flights.steps),
        {"annotation_id": recipes.annotation_id, "action_uid": "a2-s0", "element": recipes.steps[0].pos_candidates[0].backend_node_id,
         "operation": "SELECT", "value": "Vegetarian"},
        {"annotation_id": recipes.annotation_id, "action_uid": "a2-s1", "element": "999", "operation": "CLICK", "value": ""},
        {"annotation_id": mugs.annotation_id, "action_uid": "a3-s0", "element": "703", "operation": "CLICK", "value": ""},
        {"annotation_id": "nobody", "action_uid": "x", "element": "1", "operation": "CLICK", "value": ""},
    ]
    r = score_predictions(official_tasks, preds)
    assert r["step_sr"] == {"micro": pytest.approx(4 / 7), "macro": pytest.approx((1 + 0.5 + 0) / 3)}
    assert r["element_acc"]["micro"] == pytest.approx(4 / 7)
    assert r["op_f1"] == {"micro": pytest.approx(6 / 7), "macro": pytest.approx((1 + 1 + 0.5) / 3)}
    assert r["task_sr"] == pytest.approx(1 / 3)
    assert (r["n_steps"], r["n_tasks"], r["n_steps_without_positive"], r["n_steps_predicted"]) == (7, 3, 1, 6)
    assert (r["n_unknown_predictions"], r["unknown_predictions"]) == (1, ["nobody_x"])


def _oracle(tasks, *, best_ranked=False):
    out = []
    for t in tasks:
        for s in t.steps:
            pos = sorted(s.pos_candidates, key=lambda c: c.rank) if best_ranked else s.pos_candidates
            out.append({"annotation_id": t.annotation_id, "action_uid": s.action_uid,
                        "element": pos[0].backend_node_id if pos else None, "operation": s.operation.op,
                        "value": s.operation.value})  # fmt: skip
    return out


@pytest.mark.parametrize(("split", "n_steps", "n_no_positive", "recall"), [
    ("test_task", 2094, 119, 0.889), ("test_website", 1373, 59, 0.853)])
def test_oracle_and_mindact_recall_on_real_splits(request, split, n_steps, n_no_positive, recall):
    tasks = request.getfixturevalue(split)
    r = score_predictions(tasks, _oracle(tasks))
    assert (r["n_steps"], r["n_steps_without_positive"]) == (n_steps, n_no_positive)
    with_positive = n_steps - n_no_positive
    for key in ("element_acc", "op_f1", "step_sr"):  # 1.0 on every step that has a positive
        assert r[key]["micro"] * n_steps == pytest.approx(with_positive)
    assert r["lumos_step_sr"] * n_steps == pytest.approx(with_positive)
    samples = [s for t in tasks for s in t.samples()]
    assert round(recall_at_k(samples, 50), 3) == recall
    capped = score_predictions(tasks, _oracle(tasks, best_ranked=True), rank_cap=50)  # MindAct's evaluation
    assert capped["step_sr"]["micro"] == pytest.approx(recall_at_k(samples, 50))


def _write_lines(path, lines):
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


def test_scorer_command_round_trip(tmp_path, capsys, official_tasks, official_file):
    preds = _oracle(official_tasks)[:-2]  # the last task's two steps missing
    path = _write_lines(tmp_path / "steps.jsonl", preds + preds[:1])  # an identical repeat is fine
    assert score_main(["--data_dir", str(official_file), "--predictions", str(path)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == {**score_predictions(official_tasks, preds), "split": "test_task", "data": str(official_file), "rank_cap": None}
    assert out["step_sr"]["micro"] == pytest.approx(5 / 7) and out["task_sr"] == pytest.approx(2 / 3)
    assert {"element_acc", "op_f1", "step_sr", "task_sr", "n_steps", "n_tasks"} <= set(out)


def test_scorer_rejects_conflicting_or_bad_lines(tmp_path, caplog, official_file):
    a = {"annotation_id": "fx-flights-1", "action_uid": "a1-s0", "element": "111", "operation": "CLICK", "value": ""}
    path = _write_lines(tmp_path / "steps.jsonl", [a, {**a, "element": "112"}])
    assert score_main(["--data_dir", str(official_file), "--predictions", str(path)]) == 2
    assert "steps.jsonl:2: step fx-flights-1_a1-s0 predicted twice, differently" in caplog.text
    from lumos.envs.mind2web import read_predictions

    with pytest.raises(DataFormatError, match=r"steps.jsonl:1: field 'operation' must be one of"):
        read_predictions(_write_lines(tmp_path / "steps.jsonl", [{**a, "operation": "HOVER"}]))
    with pytest.raises(DataFormatError, match=r"steps.jsonl:1: missing field 'element'"):
        read_predictions(_write_lines(tmp_path / "steps.jsonl", [{k: v for k, v in a.items() if k != "element"}]))


def test_scorer_on_the_real_split_by_folder(shared_data, tmp_path, capsys, test_task):
    path = _write_lines(tmp_path / "steps.jsonl", _oracle(test_task))
    assert score_main(["--data_dir", str(shared_data), "--predictions", str(path), "--split", "test_task"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n_tasks"] == 252 and out["step_sr"]["micro"] == pytest.approx(1975 / 2094)
    assert out["data"].endswith("mind2web/seeclick_mind2web_data_test_task.json")
