"""Stage 1, watch: takes the file-system events under the watched roots, drops what the ignore
rules ignore, and hands on `changes.FileChange` values."""
