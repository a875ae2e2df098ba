"""Mind2Web (the ``web_agent`` domain): tasks, candidate texts and ranking, the per-task session, official metrics.

    from lumos.envs.mind2web import Mind2WebResources, Mind2WebSession, load_split, web_tools
    tasks = load_split("../shared/data", "test_task")
    resources = Mind2WebResources.build(ranker="dense", ranker_scores="attached")   # built once per run
    session = Mind2WebSession(tasks[0], resources)                                  # one per episode
    session.reset(); tools, variables = web_tools(session), session.initial_variables()

Scoring any system's predictions: ``python -m eval.mind2web.score --data_dir D --predictions steps.jsonl``.
Modules: ``data`` (loaders), ``dom`` (pruning, candidate text), ``ranking`` (rankers, candidate protocols),
``session`` (environment, tools, teacher forcing), ``metrics`` (element accuracy, operation F1, step/task success).
"""

from lumos.envs.mind2web.data import (
    OPS,
    SPLITS,
    Candidate,
    CandidateScores,
    Operation,
    Step,
    StepSample,
    Task,
    attach_scores,
    load_candidate_scores,
    load_split,
    load_step_samples,
    load_tasks,
    resolve_split,
    safe_unpickle,
)
from lumos.envs.mind2web.dom import DomTree, seeclick_candidate_text, tree_repr
from lumos.envs.mind2web.metrics import (
    aggregate,
    op_f1,
    read_predictions,
    score_predictions,
    score_step,
    score_task,
    target_action,
)
from lumos.envs.mind2web.ranking import (
    CANDIDATE_PROTOCOLS,
    RANKERS,
    BM25Ranker,
    CandidateRanker,
    DenseRanker,
    MindActRanker,
    RankerUnavailable,
    ScoresRanker,
    StepPage,
    candidate_set,
    make_ranker,
    ranking_query,
    recall_at_k,
)
from lumos.envs.mind2web.session import (
    MAX_STEPS,
    Mind2WebResources,
    Mind2WebSession,
    Page,
    StepPrediction,
    WebAction,
    parse_web_args,
    previous_actions,
    task_rng,
    teacher_forced_turns,
    verbalise_action,
    web_tools,
)

__all__ = [
    "CANDIDATE_PROTOCOLS", "MAX_STEPS", "OPS", "RANKERS", "SPLITS", "BM25Ranker", "Candidate", "CandidateRanker",
    "CandidateScores", "DenseRanker", "DomTree", "MindActRanker", "Mind2WebResources", "Mind2WebSession", "Operation",
    "Page", "RankerUnavailable", "ScoresRanker", "Step", "StepPage", "StepPrediction", "StepSample", "Task", "WebAction",
    "aggregate", "attach_scores", "candidate_set", "load_candidate_scores", "load_split", "load_step_samples",
    "load_tasks", "make_ranker", "op_f1", "parse_web_args", "previous_actions", "ranking_query", "read_predictions",
    "recall_at_k", "resolve_split", "safe_unpickle", "score_predictions", "score_step", "score_task",
    "seeclick_candidate_text", "target_action", "task_rng", "teacher_forced_turns", "tree_repr", "verbalise_action",
    "web_tools",
]  # fmt: skip
