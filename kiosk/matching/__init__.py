"""1:1 face matching: embeddings from the FaceMesh box, templates, scoring, calibration."""
