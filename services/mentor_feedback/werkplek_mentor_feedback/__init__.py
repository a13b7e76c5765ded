"""Mentor feedback: signed webhooks from mentors' tools (hour confirmations and rejections,
assessments, learning-agreement signatures), confirmation requests for mentors (single-use links and
outbound webhooks), and each student's learning-outcome progress."""

SERVICE = "mentor_feedback"
SOURCE = "/werkplek/mentor-feedback"
