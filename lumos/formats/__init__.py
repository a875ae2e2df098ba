"""The text formats the Lumos models were trained on: the single source of truth.

Training (``lumos.training``), data building (``lumos.conversion``) and evaluation
(``lumos.agent``) import prompts, the chat renderer and the action/subgoal grammars from here.
"""

from lumos.formats.actions import (
    ACTION_SEPARATOR,
    Action,
    ActionParseError,
    highest_r_variable,
    parse_action,
    parse_actions,
    parse_converted_action,
    render_actions,
    render_training_action,
    substitute_variables,
)
from lumos.formats.chat import (
    LUMOS_CHAT_TEMPLATE,
    LUMOS_CHAT_TEMPLATE_WITH_BOS,
    PROMPT_STYLES,
    Message,
    PromptStyle,
    adds_bos,
    as_messages,
    chat_template,
    render,
    render_prompt,
    render_segments,
)
from lumos.formats.plan import (
    PlanBlock,
    PlanParseError,
    PlanStep,
    join_onetime_plan,
    parse_converted_plan,
    parse_plan_output,
    render_converted_plan,
    render_plan_turn,
    split_onetime_plan,
    strip_keep_planning,
)

__all__ = [
    "ACTION_SEPARATOR",
    "LUMOS_CHAT_TEMPLATE",
    "LUMOS_CHAT_TEMPLATE_WITH_BOS",
    "PROMPT_STYLES",
    "Action",
    "ActionParseError",
    "Message",
    "PlanBlock",
    "PlanParseError",
    "PlanStep",
    "PromptStyle",
    "adds_bos",
    "as_messages",
    "chat_template",
    "highest_r_variable",
    "join_onetime_plan",
    "parse_action",
    "parse_actions",
    "parse_converted_action",
    "parse_converted_plan",
    "parse_plan_output",
    "render",
    "render_actions",
    "render_training_action",
    "render_converted_plan",
    "render_plan_turn",
    "render_prompt",
    "render_segments",
    "split_onetime_plan",
    "strip_keep_planning",
    "substitute_variables",
]
