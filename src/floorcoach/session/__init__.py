"""The pure session: the engine state machine, the phrase table, events, counting, simulation."""
