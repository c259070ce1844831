"""Text from templates (`templates/`, Jinja2 with StrictUndefined, `jinja`): the brokers' TLS blocks and
their insertion into an existing file (`conf`), a new recipes.yaml (`init`)."""
