"""annotation: W3C Web Annotation model and service, and machine suggestions (pre-annotation)."""
