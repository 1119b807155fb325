"""Training code for the ml-signal model; training/train.py is the entry point (see
training/README.md and ML-CONTRACT.md at the repository's merge point)."""
