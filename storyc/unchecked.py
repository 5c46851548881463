"""Pydantic models made without validation, for values a stage has already checked.

The builder makes hundreds of thousands of story nodes and `finish_plan` a plan object per
shot and clip, all from values that are already checked and of their field's exact type (a
tuple for a tuple field). Validating them again was a third of those stages' time.
`maker(Cue, "key", ...)` returns a constructor that makes the very object `Cue(key=...,
...)` would: fields in declared order, defaults filled in, `model_fields_set` the fields
given. Anything read from outside (a model made by hand, `plan.json`) still goes through
the validating constructor; `tests/test_model_built.py` and `tests/test_plan_built.py` prove
the two agree.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any, TypeVar

from pydantic import BaseModel

_M = TypeVar("_M", bound=BaseModel)

# pydantic's own slots, set through their descriptors: a quarter cheaper than
# `object.__setattr__`, which looks the name up on every call.
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


def maker(cls: type[_M], *given: str, skips: Collection[str] = ()) -> Callable[..., _M]:
    """A constructor of `cls` taking the fields `given`, positionally and in that order.

    Generated as source, as `dataclasses` does. A field that is unknown, repeated or missing
    is refused here, once, not per object; so is a class with validators, which would not
    run, unless each is named in `skips` (one the caller knows does nothing to what it
    passes).

    Each field is stored as an attribute (`object.__setattr__`, in declared order), not as
    one dict literal: then CPython gives the object a split dict, whose keys are shared by
    every object of the class, so an object's dict holds only its values. That made a
    `Span` about half the memory, and every pass over a long story reads fewer cache lines
    per node: 7% of a 10,000-shot compile."""
    fields = cls.model_fields
    required = {name for name, info in fields.items() if info.is_required()}
    if len(set(given)) != len(given) or not set(given) <= fields.keys():
        raise TypeError(f"{cls.__name__}: unknown or repeated fields {list(given)}")
    if not required <= set(given):
        raise TypeError(f"{cls.__name__}: missing fields {sorted(required - set(given))}")
    decorators = cls.__pydantic_decorators__
    validators = {*decorators.model_validators, *decorators.field_validators}
    if not validators <= set(skips):
        raise TypeError(f"{cls.__name__}: `maker` would skip {sorted(validators - set(skips))}")
    names = {name: f"_{i}" for i, name in enumerate(given)}
    namespace: dict[str, Any] = {
        "_new": object.__new__,
        "_set": object.__setattr__,
        "_cls": cls,
        "_set_fields_set": _set_fields_set,
        "_set_extra": _set_extra,
        "_set_private": _set_private,
    }
    entries: list[tuple[str, str]] = []  # (field, the expression of its value), in order
    for name, info in fields.items():
        if name in names:
            entries.append((name, names[name]))
        elif info.default_factory is not None:  # called per object, as validation would
            namespace[f"_f_{name}"] = info.default_factory
            entries.append((name, f"_f_{name}()"))
        else:
            # Plain defaults are immutable here (None, (), a string, a frozen model) and
            # shared, as validation shares them.
            namespace[f"_d_{name}"] = info.default
            entries.append((name, f"_d_{name}"))
    # One `model_fields_set` for every object this maker makes: a set per node was half the
    # memory of a built story. Sharing is safe because nothing mutates it in place: the
    # models are frozen (pydantic refuses `x.a = ...` before it would add to the set), and
    # `model_copy` copies the set before adding the updated fields (tests/test_model_memory.py).
    namespace["_fields_set"] = set(given)
    source = (
        f"def make({', '.join(names.values())}):\n"
        "    made = _new(_cls)\n"
        + "".join(f"    _set(made, {name!r}, {value})\n" for name, value in entries)
        + "    _set_fields_set(made, _fields_set)\n"
        "    _set_extra(made, None)\n"
        "    _set_private(made, None)\n"
        "    return made\n"
    )
    exec(source, namespace)  # our own field names, checked above
    make: Callable[..., _M] = namespace["make"]
    return make
