"""Code generation evaluation: problems, sandboxed execution, pass@k."""
