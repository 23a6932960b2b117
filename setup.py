"""Build configuration beyond pyproject.toml: the optional compiled accelerator.

``_sipladder_accel`` (csrc/) holds compiled twins of three per-packet functions; see
sipladder/accel.py. It is optional: without a C compiler the build goes on without it
and sipladder runs its pure-Python originals.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("_sipladder_accel", ["csrc/_sipladder_accel.c"], optional=True),
    ],
)
