"""Stage 4, delivery: takes heartbeats into the outbox on disk, and hands them on to the
Hackatime API in batches, with retries, until the server has taken them."""
