"""``fast_init``: the engine's faster ``__init__`` behaves exactly as the generated one."""

import dataclasses
import inspect
from dataclasses import dataclass, field

import pytest

from careledger.rules import calendar, context, results
from careledger.rules.fastinit import fast_init
from careledger.rules.programs import common, monitoring

ENGINE_CLASSES = [
    results.BillableLine,
    results.Flag,
    results.NextThreshold,
    results.ProgramSummary,
    results.MonthResult,
    calendar.Segment,
    context.MonthContext,
    common.ProgramTime,
    common.ProgramOutcome,
    monitoring.DevicePart,
]


def _plain_twin(cls: type) -> type:
    """The same fields as an ordinary frozen slots dataclass (the generated ``__init__``)."""
    specs = []
    for f in dataclasses.fields(cls):
        if f.default is dataclasses.MISSING:
            specs.append((f.name, f.type))
        else:
            specs.append((f.name, f.type, field(default=f.default)))
    return dataclasses.make_dataclass(cls.__name__, specs, frozen=True, slots=True)


@pytest.mark.parametrize("cls", ENGINE_CLASSES, ids=lambda c: c.__name__)
def test_each_engine_class_has_the_generated_signature(cls: type) -> None:
    assert "_set_0" in cls.__init__.__code__.co_names or not dataclasses.fields(cls)
    fast = inspect.signature(cls)
    plain = inspect.signature(_plain_twin(cls))
    assert [(p.name, p.default, p.kind) for p in fast.parameters.values()] == [
        (p.name, p.default, p.kind) for p in plain.parameters.values()
    ]


@fast_init
@dataclass(frozen=True, slots=True)
class Sample:
    a: int
    b: str
    c: tuple[int, ...] = ()
    d: str | None = None


@dataclass(frozen=True, slots=True)
class PlainSample:
    a: int
    b: str
    c: tuple[int, ...] = ()
    d: str | None = None


def test_values_equality_hash_and_repr_are_the_generated_ones() -> None:
    for args, kwargs in (((1, "x"), {}), ((1,), {"b": "y", "d": "z"}), ((2, "x", (3,)), {})):
        fast, plain = Sample(*args, **kwargs), PlainSample(*args, **kwargs)
        assert dataclasses.astuple(fast) == dataclasses.astuple(plain)
        assert repr(fast).removeprefix("Sample") == repr(plain).removeprefix("PlainSample")
        assert hash(fast) == hash(Sample(*args, **kwargs))
        assert fast == Sample(*args, **kwargs) and fast != Sample(99, "other")


def test_it_stays_frozen_and_refuses_bad_calls_as_the_generated_one_does() -> None:
    sample = Sample(1, "x")
    with pytest.raises(dataclasses.FrozenInstanceError):
        sample.a = 2  # type: ignore[misc]
    with pytest.raises(TypeError):
        Sample(1)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Sample(1, "x", (), None, "too many")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Sample(1, "x", e=3)  # type: ignore[call-arg]


def test_shapes_it_cannot_reproduce_are_refused() -> None:
    @dataclass(frozen=True)
    class NoSlots:
        a: int

    @dataclass(slots=True)
    class NotFrozen:
        a: int

    @dataclass(frozen=True, slots=True)
    class Factory:
        a: list[int] = field(default_factory=list)

    @dataclass(frozen=True, slots=True)
    class PostInit:
        a: int

        def __post_init__(self) -> None:
            pass

    for cls in (NoSlots, NotFrozen, Factory, PostInit):
        with pytest.raises(TypeError, match="fast_init"):
            fast_init(cls)
