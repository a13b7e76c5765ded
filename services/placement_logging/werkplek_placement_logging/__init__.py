"""werkplek placement logging service."""
