"""Beside the pipeline: takes a config and hands on the systemd user service or the launchd
agent that keeps `hackatimed run` going, through the user's service manager."""
