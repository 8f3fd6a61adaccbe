"""What is remembered: the SQLite history (rows, schema, store, recorder, reports), a live
session's link to it, and adaptation of the next session from it.
"""
