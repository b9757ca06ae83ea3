"""The built-in tasks (with their data, sweeps and suites) and judge templates live at the top of the
repository (tasks/, judges/: the source of truth); this build step copies them into the wheel as
evalkit/_builtin/{tasks,judges}, where evalkit.tasks.builtin_dir finds them in an installed package.
An editable install needs no copy: builtin_dir falls back to the checkout's own directories."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

BUILTIN = ("tasks", "judges")


class BuildWithBuiltins(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        root = Path(__file__).resolve().parent
        for name in BUILTIN:
            dest = Path(self.build_lib) / "evalkit" / "_builtin" / name
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(root / name, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*"))


setup(cmdclass={"build_py": BuildWithBuiltins})
