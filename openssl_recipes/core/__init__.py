"""What every stage stands on, importing nothing of the package above it: errors and exit codes
(`errors`), Ctrl-C (`interrupt`), the one subprocess helper (`process`), the files the tool writes
(`names`), the openssl binary (`openssl`), what every child starts from (`children`), keys (`keys`),
how a fleet numbers its members (`numbering`) and what a certificate says (`x509`, a small DER reader).
`startup` loads `names`, `children`, `keys` and `numbering` before anything heavy: they stay builtins only."""
