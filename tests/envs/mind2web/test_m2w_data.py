"""Loaders: the official format (our fixture), SeeClick's test files, the reprs-only train tasks, the rebuilt train
steps, MindAct's score pickle (read safely); errors name file, task, step and field."""

from __future__ import annotations

import json
import os
import pickle

import numpy as np
import pytest

from lumos.envs.mind2web import (
    CandidateScores,
    attach_scores,
    load_candidate_scores,
    load_split,
    load_step_samples,
    load_tasks,
    resolve_split,
)
from lumos.utils.io import DataFormatError


def test_official_fixture_loads_typed(official_tasks):
    assert [t.annotation_id for t in official_tasks] == ["fx-flights-1", "fx-recipes-2", "fx-mugs-3"]
    assert {t.source_format for t in official_tasks} == {"official"}
    flights = official_tasks[0]
    assert len(flights.steps) == len(flights.action_reprs) == 3
    s0 = flights.steps[0]
    assert s0.has_negatives and s0.cleaned_html.startswith("<html backend_node_id=")
    assert [c.backend_node_id for c in s0.pos_candidates] == ["111"] and len(s0.neg_candidates) == 17
    assert s0.pos_candidates[0].attributes["type"] == "radio" and s0.pos_candidates[0].is_positive
    hover = official_tasks[1].steps[1].operation
    assert (hover.op, hover.original_op, hover.value) == ("CLICK", "HOVER", "")
    assert official_tasks[2].steps[1].pos_candidates == ()
    sample = flights.sample(2)
    assert sample.sample_id == "fx-flights-1_a1-s2" and sample.previous_actions == flights.action_reprs[:2]


def _write(tmp_path, tasks):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(tasks))
    return path


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda t: t["actions"][1].pop("operation"), r"task 0 \(fx-flights-1\) step 1: missing field 'operation'"),
    (lambda t: t["actions"][0]["operation"].update(op="SCROLL"), r"step 0: operation.op 'SCROLL' is not one of"),
    (lambda t: t["actions"][2]["pos_candidates"][0].update(attributes="{oops"), r"step 2 pos_candidates\[0\]: field 'attributes'"),
    (lambda t: t["action_reprs"].pop(), r"3 actions but 2 action_reprs"),
    (lambda t: t.pop("confirmed_task"), r"task 0 \(fx-flights-1\): missing field 'confirmed_task'"),
])
def test_bad_records_name_file_task_step_and_field(tmp_path, official_file, mutate, message):
    tasks = json.loads(official_file.read_text())[:1]
    mutate(tasks[0])
    path = _write(tmp_path, tasks)
    with pytest.raises(DataFormatError, match=message) as e:
        load_tasks(path)
    assert str(path) in str(e.value)


def test_repeated_annotation_id_is_an_error(tmp_path, official_file):
    tasks = json.loads(official_file.read_text())
    with pytest.raises(DataFormatError, match="annotation_id repeated"):
        load_tasks(_write(tmp_path, [tasks[0], tasks[0]]))


def test_split_resolution_lists_what_it_tried(tmp_path, official_file):
    with pytest.raises(FileNotFoundError, match="seeclick_mind2web_data_test_domain.json"):
        resolve_split(tmp_path, "test_domain")
    (tmp_path / "test_task").mkdir()
    (tmp_path / "test_task" / "test_0.json").write_text(official_file.read_text())
    assert [t.annotation_id for t in load_split(tmp_path, "test_task")][0] == "fx-flights-1"
    with pytest.raises(ValueError, match="unknown Mind2Web split"):
        resolve_split(tmp_path, "dev")


def test_seeclick_test_splits(test_task, test_website):
    for tasks, n_tasks, n_steps in ((test_task, 252, 2094), (test_website, 177, 1373)):
        assert len(tasks) == n_tasks and sum(len(t.steps) for t in tasks) == n_steps
        assert {t.source_format for t in tasks} == {"seeclick"}
        assert not any(s.has_negatives or s.neg_candidates or s.cleaned_html for t in tasks for s in t.steps)
    c = test_task[0].steps[0].pos_candidates[0]
    assert (c.backend_node_id, c.rank, c.choice) == ("2058", 1, "(button id=34 (span Change Location ) )")


def test_reprs_only_train_tasks(shared_data):
    tasks = load_tasks(shared_data / "mind2web" / "openbrowser_mind2web_train_5tasks.json")
    assert len(tasks) == 5 and {t.source_format for t in tasks} == {"reprs_only"}
    assert sum(len(t.action_reprs) for t in tasks) == 58 and all(t.steps == () for t in tasks)


def test_rebuilt_train_steps(shared_data):
    samples = [s for part in "ab" for s in
               load_step_samples(shared_data / "mind2web" / f"skillgen_mind2web_train_steps_n100_seed42_{part}.json")]
    assert len(samples) == 200
    first = samples[0]
    assert first.step.positive_ids == {"37133"} and len(first.step.candidates) == 30
    assert first.step_index == len(first.previous_actions) == 5
    assert first.previous_actions[-1] == "[searchbox]  Search by ZIP code or city, state -> TYPE: san diego"
    assert first.step.pos_candidates[0].tag == "button" and first.step.pos_candidates[0].attributes["type"] == "submit"
    assert first.html_truncated and first.step.cleaned_html.startswith("<html")
    assert sum(len(s.step.pos_candidates) for s in samples) == 210
    assert all(s.step.positive_ids <= {c.backend_node_id for c in s.step.candidates} for s in samples)


def _scores_pickle(tmp_path, obj):
    path = tmp_path / "scores_all_data.pkl"
    path.write_bytes(pickle.dumps(obj))
    return path


def test_scores_pickle_with_numpy_scalars_and_attach(tmp_path, official_tasks):
    sid = "fx-flights-1_a1-s0"
    path = _scores_pickle(tmp_path, {"scores": {sid: {"111": np.float32(2.5), "115": np.float32(-1.0)}},
                                     "ranks": {sid: {"111": np.int64(0), "115": np.int64(1)}}})
    table = load_candidate_scores(path)
    assert isinstance(table, CandidateScores) and table.scores[sid]["111"] == 2.5 and table.ranks[sid]["115"] == 1
    tasks = attach_scores(official_tasks, table)
    step = tasks[0].steps[0]
    assert (step.pos_candidates[0].score, step.pos_candidates[0].rank) == (2.5, 0)
    by_id = {c.backend_node_id: c for c in step.neg_candidates}
    assert by_id["115"].rank == 1 and by_id["112"].rank is None
    assert tasks[0].steps[1].pos_candidates[0].rank is None


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


@pytest.mark.parametrize(("obj", "message"), [
    ({"scores": {"x": _Evil()}, "ranks": {}}, r"refusing to load (posix|os|nt)\.system"),
    ({"scores": {}}, "expected a dict with 'scores' and 'ranks'"),
    ({"scores": {"x": {"1": "high"}}, "ranks": {}}, r"scores\['x'\]: non-numeric value"),
])
def test_unsafe_or_malformed_pickles_are_refused(tmp_path, obj, message):
    with pytest.raises(DataFormatError, match=message):
        load_candidate_scores(_scores_pickle(tmp_path, obj))
