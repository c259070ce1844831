"""Steps run: `execute` (the one executor: order, parallelism, secrets, failures), `runner` (a build:
what to keep, then the rest), `workspace` (the output folder: lock, atomic writes, backups), `inspect`
(are existing files sound?), `renew` and `sign` (what those commands check before they run)."""
