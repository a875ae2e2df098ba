"""The Lumos agent: the plan -> ground -> execute loop (``loop``) and its records (``trajectory``)."""

from lumos.agent.loop import AgentConfig, run_agent
from lumos.agent.trajectory import Step, Trajectory

__all__ = ["AgentConfig", "Step", "Trajectory", "run_agent"]
