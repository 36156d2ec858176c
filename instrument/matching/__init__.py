"""Matching collections (paper §4.1): audio files <-> images, through a stacked autoencoder per side."""
