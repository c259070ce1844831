"""What a build made, checked before it is deployed: `verify` (one row per certificate, `report`),
`drift` (kept files the recipe no longer describes), `tree` and `show`, `handshake` (strict TLS on
127.0.0.1), `mbedtls` (NanoMQ's TLS library asked itself), `mqtt` and `nanomq/` (a real NanoMQ started
and tried with the rendered configuration)."""
