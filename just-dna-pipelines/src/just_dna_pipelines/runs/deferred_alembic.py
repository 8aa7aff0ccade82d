"""Dagster's SQL storage module imported without Alembic, which then loads at its first use.

`dagster._core.storage.sql` imports five names from Alembic as it is imported, and Alembic imports the DDL of
every SQL dialect it knows: 0.13-0.29 s of each command's start on these machines (bench/RESULTS.md). Alembic
creates, stamps and migrates databases, which a prepared Dagster home does not need again: run databases are
written from a kept template and the storages open without a revision check (sqlite_pool.py), so a command on
a prepared home never loads it.

`install` adds an import hook for that one module: while it runs, stand-ins for the five names sit where
Alembic's modules would be, and are taken away again as soon as it has run, so whatever imports Alembic later
gets the real one. Each stand-in loads the real function or class the first time it is called or asked for an
attribute (the module only calls them, or calls their class methods). Nothing is done when Alembic is loaded
already (Dagster's PostgreSQL storage imports it itself).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
from collections.abc import Sequence
from typing import Any

SQL_STORAGE = "dagster._core.storage.sql"
# What the module imports from Alembic, by module.
DEFERRED = {
    "alembic.command": ("downgrade", "stamp", "upgrade"),
    "alembic.config": ("Config",),
    "alembic.runtime.environment": ("EnvironmentContext",),
    "alembic.runtime.migration": ("MigrationContext",),
    "alembic.script": ("ScriptDirectory",),
}


class Deferred:
    """An Alembic function or class, imported when first called or asked for an attribute."""

    def __init__(self, module: str, name: str) -> None:
        self._module = module
        self._name = name

    def resolve(self) -> Any:
        """The real object (Alembic is imported now if it was not)."""
        return getattr(importlib.import_module(self._module), self._name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.resolve()(*args, **kwargs)

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self.resolve(), attribute)

    def __repr__(self) -> str:
        return f"<{self._module}.{self._name}, loaded at first use>"


def stand_in_modules() -> dict[str, types.ModuleType]:
    """Modules named like Alembic's holding the deferred names (and the packages above them)."""
    modules = {name: types.ModuleType(name) for name in ("alembic", "alembic.runtime")}
    for module, names in DEFERRED.items():
        stand_in = modules[module] = types.ModuleType(module)
        for name in names:
            setattr(stand_in, name, Deferred(module, name))
    return modules


class _WithStandIns(importlib.abc.Loader):
    """The module's own loader, run with the stand-ins in place."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        stand_ins = stand_in_modules()
        sys.modules.update(stand_ins)
        try:
            self._loader.exec_module(module)
        finally:
            for name, stand_in in stand_ins.items():
                if sys.modules.get(name) is stand_in:
                    del sys.modules[name]

    def __getattr__(self, attribute: str) -> Any:  # get_source, get_filename, ... of the real loader
        return getattr(self._loader, attribute)


class _SqlStorageFinder(importlib.abc.MetaPathFinder):
    """Finds the SQL storage module as Python would, with its loader wrapped (only while Alembic is not loaded)."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != SQL_STORAGE or "alembic" in sys.modules:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return None
        spec.loader = _WithStandIns(spec.loader)
        return spec


def install() -> None:
    """Import the SQL storage module with Alembic deferred, from now on in this process (once is enough)."""
    if SQL_STORAGE in sys.modules or any(isinstance(f, _SqlStorageFinder) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _SqlStorageFinder())
