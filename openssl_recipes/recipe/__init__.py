"""recipes.yaml → a validated `Recipe`. `load` reads it (YAML with line and column, `yaml_source`), the
file's pydantic models check it (`schema`, `broker` for the `nanomq:` section), the rules across entries
resolve it (`rules`, `fleet_rules`, `files`); what the rest reads is `model.Recipe` with its `entries`
and `fleet`s. Beside them: `sans`, `subject`, `secrets` (passwords by reference), `token` (a CA key in
a PKCS#11 token), `json_schema`."""
