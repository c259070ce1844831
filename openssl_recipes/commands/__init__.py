"""One module per subcommand; each has `register(app)` and keeps its heavy imports inside."""
