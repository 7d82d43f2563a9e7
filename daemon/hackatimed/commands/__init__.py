"""The `hackatimed` commands, above every stage: each takes its parsed arguments and the
environment, and hands on an exit code and what it printed. `run` starts the wired daemon."""
