# Shared fixtures of the cimsim Python tests: the CLI next to the bindings (CIMSIM_BIN, set by ctest).
import os
import shutil

import pytest


@pytest.fixture(scope="session")
def cli():
    path = os.environ.get("CIMSIM_BIN") or shutil.which("cimsim")
    if not path or not os.path.exists(path):
        pytest.fail("the cimsim CLI is needed (CIMSIM_BIN=build/bin/cimsim)")
    return path
