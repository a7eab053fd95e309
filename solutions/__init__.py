"""Reference implementations: the single source of truth for grading.

One module per assignment, each implementing exactly the functions that
``CONTRACT.md`` fixes. The hidden checks compare student answers with these.
"""

from collections.abc import Callable, Mapping
from types import FunctionType
from typing import Any


def in_namespace(function: Callable[..., Any], namespace: Mapping[str, Any]) -> Callable[..., Any]:
    """The reference ``function``, looking up the other contract functions in ``namespace``.

    The master notebooks delegate to this package. A training loop in a notebook calls the
    notebook's own ``forward`` and ``backward``; rebinding keeps that true of the reference.
    """
    return FunctionType(
        function.__code__,
        dict(namespace),
        function.__name__,
        function.__defaults__,
        function.__closure__,
    )
