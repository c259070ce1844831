"""One module per subcommand; each has `register(app)` and keeps its heavy imports inside."""

# Command name → the module here that registers it, in the order `--help` lists them. Plain data:
# completion reads it before typer is imported (startup.completion).
COMMAND_MODULES = {
    "init": "init",
    "plan": "plan",
    "build": "build",
    "verify": "verify",
    "handshake": "handshake",
    "conf": "conf",
    "bundle": "bundle",
    "show": "lifecycle",
    "export": "lifecycle",
    "issue": "lifecycle",
    "renew": "lifecycle",
    "revoke": "lifecycle",
    "crl": "lifecycle",
    "rotate": "rotate",
    "sign": "sign",
    "clean": "clean",
    "schema": "schema",
}
