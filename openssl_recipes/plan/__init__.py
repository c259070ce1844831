"""Recipe → steps: each an openssl argv with the files it reads and writes and its secrets by reference.
`planner` plans a build, `extensions` its extension file, `lifecycle` and `sign` the later commands',
`token` a CA key made in its PKCS#11 token;
`script` is the one printer of steps (`plan`, `--dry-run`, `plan --script`); `ownership` lists what the
recipe's commands write. Pure: nothing here runs openssl."""
