"""hackatimed: turns edits in watched folders into Hackatime heartbeats."""

__version__ = "0.1.0"
