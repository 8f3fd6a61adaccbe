"""Adapters for sound devices, speech synthesis and speech recognition.

These are the only modules that import sounddevice, vosk, pocketsphinx or pyttsx3.
"""
