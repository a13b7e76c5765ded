"""werkplek hour accounting service."""
