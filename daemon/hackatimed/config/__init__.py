"""The configuration, below every stage: takes the TOML file, `~/.wakatime.cfg` and the
environment, and hands on one frozen `load.Config` that every stage reads."""
