"""Code that may run inside the sandbox: the plan, its plain data, the stand-ins and the runner.

Everything in this package needs only the standard library and NumPy, and holds no
solution and no expected answer: it is the only part of the grader a submission sees.
"""
