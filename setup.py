# Metadata lives in pyproject.toml; this shim serves tools that still call setup.py directly.
from setuptools import setup

setup()
