"""What a Spark job reports: one ``summary()`` for ``spark train`` and ``spark recommend`` results."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, ClassVar

__all__ = ["JobResult"]


@dataclass
class JobResult:
    """A job's result as a dataclass; :meth:`summary` gives its fields as JSON-safe facts (``--json``, logs).

    Fields keep their order and name (``_shown_as`` renames one, ``_hidden`` leaves objects such as
    the fitted model out); paths become strings and ``seconds`` (one number or a dict of phases) is
    rounded to the millisecond.
    """

    _hidden: ClassVar[tuple[str, ...]] = ()
    _shown_as: ClassVar[dict[str, str]] = {}

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name in self._hidden:
                continue
            value = getattr(self, f.name)
            if isinstance(value, Path):
                value = str(value)
            elif f.name == "seconds":
                value = (
                    {phase: round(v, 3) for phase, v in value.items()}
                    if isinstance(value, dict)
                    else round(value, 3)
                )
            out[self._shown_as.get(f.name, f.name)] = value
        return out
