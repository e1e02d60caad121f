"""Authored facts about the ecosystem, kept as data apart from the code that uses them."""
