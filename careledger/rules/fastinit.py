"""A faster ``__init__`` for the engine's frozen, slotted dataclasses (same values, same API).

A frozen dataclass's generated ``__init__`` sets each field with ``object.__setattr__(self,
name, value)``, which looks the slot up by name on every call; the engine builds tens of these
objects per patient-month, so that lookup was a measurable share of its time. ``fast_init``
replaces ``__init__`` with one that calls each slot's descriptor directly. The signature
(names, order, defaults, keyword use) and the stored values are exactly those of the generated
``__init__``; the class stays frozen (assignment after construction still raises).
"""

from __future__ import annotations

from dataclasses import MISSING, fields, is_dataclass
from typing import Any, TypeVar

T = TypeVar("T")


def fast_init(cls: type[T]) -> type[T]:
    """Give a frozen slots dataclass (no default factories, no ``__post_init__``) a direct
    slot-setting ``__init__``; apply it above ``@dataclass``."""
    # Only the shape whose generated __init__ this reproduces exactly is accepted.
    if not (
        is_dataclass(cls)
        and "__slots__" in cls.__dict__
        and cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
        and not hasattr(cls, "__post_init__")
    ):
        raise TypeError(f"fast_init needs a frozen slots dataclass: {cls!r}")
    params: list[str] = []
    body: list[str] = []
    namespace: dict[str, Any] = {}
    for index, f in enumerate(fields(cls)):
        if not f.init or f.kw_only or f.default_factory is not MISSING:
            raise TypeError(f"fast_init does not support field {cls.__name__}.{f.name}")
        if f.default is MISSING:
            params.append(f.name)
        else:
            namespace[f"_default_{index}"] = f.default
            params.append(f"{f.name}=_default_{index}")
        namespace[f"_set_{index}"] = getattr(cls, f.name).__set__
        body.append(f"    _set_{index}(self, {f.name})")
    source = f"def __init__(self, {', '.join(params)}):\n" + "\n".join(body or ["    pass"])
    # The text is built only from the dataclass's own field names, never from data.
    exec(source, namespace)
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__doc__ = cls.__init__.__doc__
    init.__annotations__ = dict(cls.__init__.__annotations__)
    cls.__init__ = init  # type: ignore[method-assign]
    return cls
