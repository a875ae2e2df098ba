"""The agent: episodes (one per example), trajectories, and the one loop that drives them."""

from lumos.agent.episode import Episode, StandardDialogue
from lumos.agent.loop import AgentConfig, run_episodes
from lumos.agent.trajectory import Step, Trajectory

__all__ = ["AgentConfig", "Episode", "StandardDialogue", "Step", "Trajectory", "run_episodes"]
