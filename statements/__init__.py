"""Statements of account: selectors and renderers (page, PDF, CSV), no writes.

docs/statements.md says what a statement shows and how each movement counts.
"""
