"""Every command's help says what its source says: the CLI renders help as rich markup, where a word in
lowercase brackets is a style tag and vanishes. ``report --help`` read "With --config: the file's ." for
"the file's [split]." and "wins over the file's  test_size" (h207's reading)."""

from __future__ import annotations

from typing import Any

import typer
from rich.text import Text

from movierec.cli import app


def _helps(command: Any, path: str) -> list[tuple[str, str]]:
    """(where, text) for ``command``'s own help and each of its parameters', then its subcommands'."""
    found = [(path, command.help or "")]
    found += [(f"{path} {p.name}", getattr(p, "help", None) or "") for p in command.params]
    for name, sub in getattr(command, "commands", {}).items():  # a group's (typer ships its own click)
        found += _helps(sub, f"{path} {name}")
    return found


def test_no_help_text_loses_a_bracketed_word_to_markup() -> None:
    helps = _helps(typer.main.get_command(app), "movierec")
    assert len(helps) > 100, len(helps)  # every command and option was walked
    lost = [
        (where, text)
        for where, text in helps
        if Text.from_markup(text).plain != text.replace("\\[", "[")  # what a reader sees vs. what was meant
    ]
    assert not lost, lost
