"""Stage 3, detect: takes an edit and hands on the `Heartbeat` it makes: project, branch,
language, lines, dependencies, with the privacy rules applied."""
