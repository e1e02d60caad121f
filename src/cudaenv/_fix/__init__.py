"""Fixes: plans built from findings, printed for a shell, applied with a journal, undone."""
