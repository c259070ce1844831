"""Fixtures live in helpers.py beside the helpers they use; pytest finds them through this import."""

from .helpers import default_pki, small_recipe  # noqa: F401
