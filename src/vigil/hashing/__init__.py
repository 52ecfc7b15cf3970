"""Perceptual hashes of media, so that re-encoded copies of known content still match."""
