"""Listening: microphone, voice detection, recognizers and their second opinions, echo."""
