"""What is played: the routine model, the routine loader and exercise library, questions."""
