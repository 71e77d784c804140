# nbgrader's settings for the mtlab course; this folder is the course's root (run nbgrader here).
# `make course` builds source/mtlab/ from notebooks/ and runs `nbgrader generate_assignment`.
import os

c = get_config()  # noqa: F821 (nbgrader defines it)

c.CourseDirectory.course_id = "mtlab"

# Autograding runs every notebook of every student: the fast profile (the shipped sample data,
# short trainings), offline, on the lab's own kernel (`make course` registers "mtlab" in the
# venv), at most 5 minutes a cell. The kernel inherits this process's environment.
os.environ.setdefault("MTLAB_FAST", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
c.Execute.kernel_name = "mtlab"
c.Execute.timeout = 300

# The stub a student fills in: the same two lines the checks recognise as "not done yet".
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
