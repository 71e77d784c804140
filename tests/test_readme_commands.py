"""The commands the docs name work as typed: `make` targets exist, mtlab's command lines parse.

A student copies a command from the README, a notebook, or a result's COMMAND.md to run it
again. This test finds every `make ...`, `python -m mtlab...`, `python -m bench...` and
`python scripts/...` there (code blocks and inline code) and checks it the way the shell would
run it, up to the point where work would start: the Makefile has the target, the module or
script exists, and the command's own argument parser accepts every flag and value. Nothing is
run.
"""

import argparse
import importlib.util
import re
import shlex
import sys
from pathlib import Path

import nbformat
import pytest

from bench.extension_table import EXTENSIONS

ROOT = Path(__file__).parents[1]
FENCE = re.compile(r"^[ \t]*```[^\n]*\n(.*?)^[ \t]*```", re.S | re.M)  # indented in lists too
ENVIRONMENT = re.compile(r"^(?:[A-Z_]+=(?:\$\([^)]*\)|\S+) )*")  # VAR=value, VAR=$(mktemp -d)
COMMAND = re.compile(
    ENVIRONMENT.pattern + r"(make(?= |$)|python -m mtlab|python -m bench|python scripts/)"
)


def docs() -> list[tuple[str, str]]:
    """(where, markdown) of the READMEs, the answers, the results' COMMAND.md files, notebook cells."""
    paths = [ROOT / "README.md", *sorted(ROOT.glob("*/README.md")),
             *sorted(ROOT.glob("notebooks/answers/*.md")), *sorted(ROOT.glob("docs/*.md")), *sorted(ROOT.glob("results/*/COMMAND.md"))]  # fmt: skip
    found = [(path.relative_to(ROOT).as_posix(), path.read_text()) for path in paths]
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = nbformat.read(path, as_version=4).cells
        found += [(path.name, cell.source) for cell in cells if cell.cell_type == "markdown"]
    return found


def commands_in(text: str) -> list[str]:
    """Command lines of code blocks (continuations joined) and of inline code spans."""
    found = []
    for block in FENCE.findall(text):
        found += block.replace("\\\n", " ").splitlines()
    found += re.findall(r"`([^`]+)`", FENCE.sub("", text))
    return [command for command in (" ".join(c.split()) for c in found) if COMMAND.match(command)]


DOCUMENTED = sorted({(where, command) for where, text in docs() for command in commands_in(text)})


class Parsed(Exception):
    """Raised right after a command's parser accepted its arguments: nothing else runs."""


def parse_only(monkeypatch, run, argv: list[str]) -> None:
    """Call the command's main(argv), stopping once argparse has accepted the arguments."""
    original = argparse.ArgumentParser.parse_args

    def parse_then_stop(parser, args=None, namespace=None):
        original(parser, args, namespace)  # exits 2, with argparse's message, on a bad flag
        raise Parsed

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", parse_then_stop)
    with pytest.raises((Parsed, SystemExit)) as stopped:
        run(argv)
    if stopped.type is SystemExit:  # --help exits 0 after printing; a bad flag exits 2
        assert stopped.value.code == 0, f"{argv} is refused by its parser"


def script_main(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module.main


def mtlab_main():
    from mtlab.__main__ import main

    return main


def bench_main():
    from bench.__main__ import main

    return main


# The modules a documented `python -m` may name, and the main() that parses their arguments.
# `mtlab.bench` was the bench's name until it moved out of the lab package: results' COMMAND.md
# files record past runs under it, so there it is checked against today's bench, which takes the
# same arguments; anywhere else it is an error (test_the_old_bench_name_is_only_in_past_runs).
MODULES = {"mtlab": mtlab_main, "bench": bench_main, "mtlab.bench": bench_main}
OLD_BENCH = "python -m mtlab.bench"
PAST_RUN = re.compile(r"results/[^/]+/COMMAND\.md$")


def check_command(monkeypatch, command: str) -> None:
    words = shlex.split(ENVIRONMENT.sub("", command), comments=True)
    if words[0] == "make":
        targets = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), re.M))
        unknown = [w for w in words[1:] if "=" not in w and w not in targets]
        assert not unknown, f"no Makefile target {unknown}"
    elif words[:2] == ["python", "-m"]:
        module, argv = words[2], words[3:]
        assert module in MODULES, f"no command python -m {module}"
        if module == "mtlab":
            argv = [w for w in argv if w != "--debug"]
        parse_only(monkeypatch, MODULES[module](), argv)
    else:
        script = Path(words[1])
        assert (ROOT / script).is_file(), f"{script} does not exist"
        parse_only(monkeypatch, script_main(script.stem), words[2:])


@pytest.mark.parametrize("where, command", DOCUMENTED, ids=[f"{w}: {c}" for w, c in DOCUMENTED])
def test_each_documented_command_works_as_typed(where, command, monkeypatch):
    check_command(monkeypatch, command)


def test_the_readmes_name_commands_of_every_kind():
    kinds = {COMMAND.match(command).group(1) for _where, command in DOCUMENTED}
    assert kinds == {"make", "python -m mtlab", "python -m bench", "python scripts/"}
    assert len(DOCUMENTED) >= 50


@pytest.mark.parametrize(
    "command",
    [
        "make no-such-target",
        "python -m mtlab --no-such-flag",
        "python -m mtlab --seed S",
        "python -m mtlab further-pretrain --steps 220 first",
        "python -m bench --peer-seed one",
        "python -m bench --no-such-flag",
        "python -m mtlab.bench --peer-seed one",
        "python -m mtlab.no_such_module",
        "python -m benchmarks",
        "python scripts/no_such_script.py",
        "python scripts/trainer_rate_spread.py --precision fp16",
    ],
)
def test_a_command_that_would_fail_is_caught(command, monkeypatch):
    with pytest.raises(AssertionError):
        check_command(monkeypatch, command)


def test_the_old_bench_name_is_only_in_past_runs():
    """`python -m mtlab.bench` no longer runs: only a result's record of a past run may name it."""
    old = [where for where, command in DOCUMENTED if command.startswith(OLD_BENCH)]
    assert old, "the results' COMMAND.md files record bench runs under the old name"
    texts = [("Makefile", (ROOT / "Makefile").read_text()), *docs()]
    named = [where for where, text in texts if "mtlab.bench" in text and not PAST_RUN.match(where)]
    assert not named, f"the bench is python -m bench now, not {OLD_BENCH}: {sorted(set(named))}"


def test_the_mlm_extension_is_a_command_that_parses(monkeypatch):
    (mlm,) = [e for e in EXTENSIONS.values() if e.mlm]
    check_command(monkeypatch, mlm.flags.replace("MLM_STEPS", "220"))
