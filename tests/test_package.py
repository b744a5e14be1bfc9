"""Packaging: the version, the typing marker, and what the wheel installs."""

import pathlib
import tomllib

import projgeo

ROOT = pathlib.Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_version_is_the_one_in_pyproject():
    assert projgeo.__version__ == PYPROJECT["project"]["version"]


def test_package_is_marked_typed():
    assert (pathlib.Path(projgeo.__file__).parent / "py.typed").is_file()
    assert "py.typed" in PYPROJECT["tool"]["setuptools"]["package-data"]["projgeo"]


def test_wheel_installs_no_generic_top_level_names():
    """`figures` and `benchmarks` run from a clone; only the project's names are installed."""
    assert PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"] == [
        "projgeo*", "proofs_check*"]
