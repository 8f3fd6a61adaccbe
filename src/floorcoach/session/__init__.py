"""The pure session: the engine state machine and its units (commands, pain dialogue, red-flag
check, step planning, summary, undo), events and effects, counting words, the virtual clock.
"""
