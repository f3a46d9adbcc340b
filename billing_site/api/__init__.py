"""Plumbing shared by both APIs: parsing, envelopes, error classification, pagination, dates.

Nothing here imports an app's models; each API maps these pieces to its own wire vocabulary.
"""
