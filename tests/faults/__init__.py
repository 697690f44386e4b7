"""Fault-injection tests (their own SecantusDB with test commands; see conftest.py)."""
