"""Presentation-attack detection (screens, prints): passive cues and the colour-flash challenge."""
