"""Objective terms: each returns its coefficient vector over the layout's variables."""
