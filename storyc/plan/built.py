"""Plan objects made without pydantic's validation, for values the planner already holds.

`finish_plan` makes a `PlannedShot` per shot and a `Clip` per clip: at 10,000 shots,
validation was a third of its time, spent re-checking values that came out of a checked
story (ints, strings, tuples). `maker(PlannedShot, "index", ...)` returns a constructor
that makes the very object `PlannedShot(index=..., ...)` would: fields in declared order,
defaults filled in, `model_fields_set` the fields given. It is only for values of the
field's exact type (a tuple for a tuple field, a float for a float); anything read from
outside (`plan.json`, a user) still goes through the validating constructor.
`tests/test_plan_built.py` proves the two agree on the golden corpus.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any, TypeVar

from pydantic import BaseModel

_M = TypeVar("_M", bound=BaseModel)


def maker(cls: type[_M], *given: str, skips: Collection[str] = ()) -> Callable[..., _M]:
    """A constructor of `cls` taking the fields `given`, positionally, in that order.

    Generated as source (as `dataclasses` does) so a call is one dict literal and four
    slot stores; a field that is unknown, repeated or missing is refused here, once. So is
    a class with validators, which would not run, unless each is named in `skips` (one the
    caller knows does nothing to what it passes)."""
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
    namespace: dict[str, Any] = {"_new": object.__new__, "_set": object.__setattr__, "_cls": cls}
    entries = []
    for name, info in fields.items():
        if name in names:
            entries.append(f"{name!r}: {names[name]}")
        elif info.default_factory is not None:
            namespace[f"_f_{name}"] = info.default_factory
            entries.append(f"{name!r}: _f_{name}()")
        else:
            # Plain defaults are immutable here (None, (), a frozen model) and shared, as
            # validation shares them.
            namespace[f"_d_{name}"] = info.default
            entries.append(f"{name!r}: _d_{name}")
    # One `model_fields_set` per maker: safe, as the models are frozen and `model_copy`
    # copies the set before adding to it.
    namespace["_fields_set"] = set(given)
    source = (
        f"def make({', '.join(names.values())}):\n"
        "    made = _new(_cls)\n"
        f"    _set(made, '__dict__', {{{', '.join(entries)}}})\n"
        "    _set(made, '__pydantic_fields_set__', _fields_set)\n"
        "    _set(made, '__pydantic_extra__', None)\n"
        "    _set(made, '__pydantic_private__', None)\n"
        "    return made\n"
    )
    exec(source, namespace)  # our own field names, checked above
    make: Callable[..., _M] = namespace["make"]
    return make
