"""What wires the layers into a running player: the event loop, voice and text output, views,
standby, reminders, settings, enrollment, the demo and the audio-clock simulation.
"""
