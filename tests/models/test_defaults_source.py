"""Every model with hyperparameters says where its defaults come from, and the studies it names exist."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

from movierec.cli.models import model_info
from movierec.models.defaults_source import DEFAULTS_FROM
from movierec.models.registry import MODELS

ROOT = Path(__file__).resolve().parents[2]
# parameters every model of a family carries that say how to run, not what to learn
_RUNTIME = {"random_state", "num_threads", "n_threads", "use_gpu", "device", "max_items", "max_users",
            "weighting", "half_life_days"}  # fmt: skip


def test_every_model_with_hyperparameters_has_an_entry_and_no_entry_is_stray() -> None:
    assert set(DEFAULTS_FROM) <= set(MODELS), set(DEFAULTS_FROM) - set(MODELS)
    for name in MODELS:
        info = model_info(name)
        if not info["available"]:
            continue
        tunable = set(info["params"]) - _RUNTIME
        if tunable:
            assert DEFAULTS_FROM.get(name), (name, tunable)


def test_every_bench_script_named_exists_and_every_study_command_is_stored() -> None:
    studies = json.loads((ROOT / "bench/results/validation_study.json").read_text())["studies"]
    # each stored command's arguments after the script, "--protocol ml100k" (the default) dropped
    commands = {
        " ".join(shlex.split(s["command"])[3:]).replace(" --protocol ml100k", "") for s in studies.values()
    }
    for name, text in DEFAULTS_FROM.items():
        for script in re.findall(r"bench/[\w/]+\.py", text):
            assert (ROOT / script).is_file(), (name, script)
        for args in re.findall(r"validation_study\.py ([\w-]+(?: --[\w-]+ [\w,]+)*)", text):
            assert args in commands, (name, args, sorted(commands))
