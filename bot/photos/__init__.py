"""Charger serials read from photos of their labels (issue 17): decoding, OCR, and the portal's serial rules."""
