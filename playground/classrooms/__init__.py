"""Classrooms: instructors hand out assignments, students design, submissions are graded by
simulation, and a live dashboard shows the class (issue #6)."""
