"""floorcoach: an offline, hands-free, voice-guided exercise player."""

__version__ = "0.1.0"
