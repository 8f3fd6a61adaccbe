"""Speaking: the synthesizer, its cache, the speaker stream and the tones."""
