"""Stage 2, activity: takes the watcher's changes and what the desktop says (idle time, the
window in focus, editors' backups), and hands on `edits.Edit` values: saves, and keepalives
while someone types."""
