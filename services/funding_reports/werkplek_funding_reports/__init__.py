"""werkplek funding reports service."""
