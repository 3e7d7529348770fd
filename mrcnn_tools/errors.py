"""Domain exceptions.

The library raises these; only the command-line layer turns them into exit codes.
Every message says what is wrong, where (file and line when there is one) and how to fix it.
"""

import importlib


class MrcnnError(Exception):
    """Base class of every error a user can cause and fix."""

    exit_code = 1


class InputFormatError(MrcnnError):
    """A file does not follow the format it claims or was detected as."""

    def __init__(self, message, path=None, line=None):
        where = ""
        if path is not None:
            where = f"{path}"
            if line is not None:
                where += f", line {line}"
            where += ": "
        super().__init__(where + message)
        self.path = path
        self.line = line


class GenomeMismatchError(MrcnnError):
    """Calls, dataset or model do not fit the genome they are used with."""


class DatasetError(MrcnnError):
    """A dataset NPZ is missing, of another schema, or incompatible."""


class ModelError(MrcnnError):
    """A model file is unreadable or does not fit the data."""


class UsageError(MrcnnError):
    """Options that contradict each other or are out of range (exit code 2)."""

    exit_code = 2


def require_module(name, message):
    """Import the optional package *name*, or raise MrcnnError(*message*) when it is not installed.

    Returns
    -------
    module
    """

    try:
        return importlib.import_module(name)
    except ImportError:
        raise MrcnnError(message) from None
