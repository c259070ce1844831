"""Before typer is imported: bash's Tab (`completion`) and the top-level `--help` (`help`) answered,
the recipe read raw (`peek`), and `build`'s first keys started (`headstart`). Imports only `core`: each
trick is entered through one function, which `entry` calls."""
