"""openssl-recipes: recipes.yaml → the openssl commands for one-way and two-way TLS, and the
broker configuration that uses the certificates."""

__version__ = "0.1.0"
