"""Steps run: `execute` (the one executor: order, parallelism, secrets, failures), `runner` (a build:
what to keep, then the rest), `workspace` (the output folder: lock, atomic writes, backups), `inspect`
(are existing files sound?), `kept_leaves` (which servers and clients a build keeps), `token` (a CA key
in a PKCS#11 token: its public key, what the token said), `renew` and `sign` (what those commands check
before they run)."""
