"""
A small AST mutation pass: mutate one module, run only its tests, report the survivors.

Usage (from the repository root, with the project's virtualenv)::

    nice -n 10 .venv/bin/python tools/mutation.py retry
    nice -n 10 .venv/bin/python tools/mutation.py src/holysheep_client/_routing/router.py tests/test_router.py
    .venv/bin/python tools/mutation.py budget --list

A mutant is one small change (a comparison operator, a boundary constant, a boolean
operator, a dropped ``not``, ``min``/``max``, ``return None``, a removed statement).
The pass copies ``src/`` and ``tests/`` to a temporary folder (the work tree is never
written) and runs each mutant's tests in a fork of one warmed-up process. A mutant
is killed when its tests fail or time out.
Score = killed / (mutants run - allowlisted survivors). See ``docs/mutation.md``.
"""

from __future__ import annotations

import argparse
import ast
import compileall
import contextlib
import copy
import importlib
import importlib.metadata
import os
import py_compile
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

DESCRIPTION = "Mutate one module, run only its tests, report the survivors."
ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "holysheep_client"

#: Short names of the policy modules, with the tests that pin each one.
MODULES: dict[str, tuple[str, tuple[str, ...]]] = {
    "backoff": ("_resilience/backoff.py", ("tests/resilience/test_backoff.py",)),
    "retry": ("_resilience/retry.py", ("tests/resilience/test_retry.py",)),
    "breaker": ("_resilience/breaker.py", ("tests/resilience/test_breaker.py",)),
    "budget": ("_resilience/budget.py", ("tests/resilience/test_budget.py",)),
    "router": ("_routing/router.py", ("tests/test_router.py",)),
    "migration": (
        "_routing/migration.py",
        ("tests/routing/test_migration.py", "tests/test_router.py"),
    ),
}

#: Equivalent mutants: (module, enclosing def, mutation) -> why it cannot change
#: behaviour. A listed mutant still runs; if it is killed, the entry is stale.
_B, _R = "_resilience/breaker.py", "_routing/router.py"
_NEVER_OPEN = "only read while open, and set when the breaker opens"
_ADMIT_SETS = "only read while half-open, and admit() sets it on entering half-open"
_GENERATION = (
    "generations are only compared for equality; any change per transition works"
)
_ZERO_SCORE = (
    "a weight of 0 scores 0, never above the starting best_score (and < 0 is refused)"
)
_BELOW_ULP = (
    "below float resolution for any digest >= 2**54 (all but 1 in 1024); keeps h > 0"
)
ALLOWLIST: dict[tuple[str, str, str], str] = {
    (_B, "<module>", "remove `BreakerState = Literal['closed', 'open', 'half_open']`"):
        "a type alias read only in annotations, which are strings in this module",
    (_B, "CircuitBreaker.__init__", "`self._generation = 0` -> `self._generation = 1`"): _GENERATION,
    (_B, "CircuitBreaker.__init__", "`self._opened_at = 0.0` -> `self._opened_at = 1.0`"): _NEVER_OPEN,
    (_B, "CircuitBreaker.__init__", "remove `self._opened_at = 0.0`"): _NEVER_OPEN,
    (_B, "CircuitBreaker.__init__", "`self._probing = False` -> `self._probing = True`"): _ADMIT_SETS,
    (_B, "CircuitBreaker.__init__", "remove `self._probing = False`"): _ADMIT_SETS,
    (_B, "CircuitBreaker.record", "`not permit.probe` -> `permit.probe`"):
        "a probe always finds _counted set, so it never takes the shortcut either way",
    (_B, "CircuitBreaker.record", "`permit.generation == self._generation` -> `permit.generation != self._generation`"):
        "the locked path below ignores another generation's success just the same",
    (_B, "CircuitBreaker._transition", "`self._generation += 1` -> `self._generation -= 1`"): _GENERATION,
    (_B, "CircuitBreaker._transition", "`self._generation += 1` -> `self._generation += 2`"): _GENERATION,
    (_B, "CircuitBreaker._transition", "remove `self._probing = False`"): _ADMIT_SETS,
    (_B, "CircuitBreaker._transition", "`self._probing = False` -> `self._probing = True`"): _ADMIT_SETS,
    (_B, "_make_listener.Listener.state_change", "`old_state is None` -> `old_state is not None`"):
        "old is passed on, but _transition reads the old state from its own field",
    (_R, "_unit_hash", "`int.from_bytes(digest, 'big') + 0.5` -> `int.from_bytes(digest, 'big') - 0.5`"): _BELOW_ULP,
    (_R, "_unit_hash", "`int.from_bytes(digest, 'big') + 0.5` -> `int.from_bytes(digest, 'big') + 1.5`"): _BELOW_ULP,
    (_R, "rendezvous_pick", "`w <= 0` -> `w < 0`"): _ZERO_SCORE,
    (_R, "rendezvous_pick", "remove `continue`"): _ZERO_SCORE,
    (_R, "rendezvous_pick", "`score > best_score` -> `score >= best_score`"):
        "two blake2b scores are never exactly equal floats in practice",
    (_R, "weighted_pick", "`w > 0` -> `w >= 0`"): "adding weights of 0 leaves the total as it is",
    (_R, "weighted_pick", "`total <= 0` -> `total < 0`"):
        "with a total of 0 the loop skips every weight and returns last, still None",
    (_R, "weighted_pick", "remove `last = None`"):
        "a positive total means a positive weight, so last is set before it is read",
    (_R, "WeightedRouter._phase", "`self._migration is None or self._manual is not None` -> `self._migration is None and self._manual is not None`"):
        "its one caller, is_migration_target, has already checked both",
    (_R, "WeightedRouter.plan", "`weights.get(n, 0.0)` -> `weights.get(n, 1.0)`"):
        "every provider is in weights, so the default is never used",
    (_R, "WeightedRouter.set_weights", "remove `self._window.clear()`"):
        "once weights are set by hand nothing reads the window again",
    ("_routing/migration.py", "RollbackWindow.record", "`len(lat) - 1` -> `len(lat) + 1`"):
        "ceil(0.95 n) - 1 never exceeds n - 1, so this bound is never the smaller",
    ("_resilience/budget.py", "RetryBudget._rotate", "`steps > 0` -> `steps >= 0`"):
        "with steps == 0 the loop is empty and head is already now",
    ("_resilience/budget.py", "RetryBudget.record_call", "`self._clock.monotonic() // self._width` -> `self._clock.monotonic() / self._width`"):
        "int(t / w) >= t // w >= head: it equals head only when t // w does",
}  # fmt: skip

_COMPARE: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
_NEGATING = (ast.Eq, ast.NotEq, ast.In, ast.NotIn, ast.Is, ast.IsNot)
_BINARY: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.Mod: ast.FloorDiv,
    ast.Pow: ast.Mult,
}
_REMOVABLE = (
    ast.Assign,
    ast.AugAssign,
    ast.AnnAssign,
    ast.Expr,
    ast.Raise,
    ast.Delete,
    ast.Break,
    ast.Continue,
)
_SKIP_FIELDS = {
    "annotation",
    "returns",
    "decorator_list",
    "type_comment",
    "type_params",
}


@dataclass(frozen=True)
class Mutant:
    """One change: replace ``parent.field[index]`` by ``new``."""

    line: int
    where: str
    statement: ast.AST
    description: str
    parent: ast.AST
    field: str
    index: int | None
    new: object

    def swap(self, value: object) -> object:
        """Put ``value`` in the slot and return what was there."""
        if self.index is None:
            old = getattr(self.parent, self.field)
            setattr(self.parent, self.field, value)
        else:
            slot = getattr(self.parent, self.field)
            old, slot[self.index] = slot[self.index], value
        return old


def _skipped(node: ast.AST) -> bool:
    if isinstance(node, ast.Import | ast.ImportFrom | ast.JoinedStr):
        return True
    if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
        return True
    if isinstance(node, ast.FunctionDef) and node.name == "__repr__":
        return True
    if isinstance(node, ast.Assign | ast.AnnAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return any(
            isinstance(t, ast.Name) and t.id in ("__all__", "__slots__")
            for t in targets
        )
    # docstrings and bare constants (``...``)
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)


def _bare(node: ast.AST) -> bool:
    """A declaration without a value (``name: int``, a dataclass field)."""
    return isinstance(node, ast.AnnAssign) and node.value is None


def _children(node: ast.AST) -> Iterator[tuple[str, int | None, ast.AST]]:
    for field, value in ast.iter_fields(node):
        if field in _SKIP_FIELDS:
            continue
        if isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, ast.AST):
                    yield field, i, item
        elif isinstance(value, ast.AST):
            yield field, None, value


def _show(node: ast.AST) -> str:
    text = " ".join(ast.unparse(node).split())
    return text if len(text) <= 70 else text[:67] + "..."


def _variants(node: ast.AST) -> Iterator[tuple[str, int | None, object]]:
    """(field, index, replacement) in ``node`` for each of its own mutations."""
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            if type(op) in _COMPARE:
                yield "ops", i, _COMPARE[type(op)]()
    elif isinstance(node, ast.BoolOp):
        yield "op", None, ast.Or() if isinstance(node.op, ast.And) else ast.And()
    elif isinstance(node, ast.BinOp | ast.AugAssign) and type(node.op) in _BINARY:
        yield "op", None, _BINARY[type(node.op)]()
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        if node.func.id in ("min", "max"):
            yield "func", None, ast.Name("max" if node.func.id == "min" else "min")
    elif isinstance(node, ast.Return) and not (
        node.value is None
        or (isinstance(node.value, ast.Constant) and node.value.value is None)
    ):
        yield "value", None, ast.Constant(None)
    if isinstance(node, ast.If | ast.While | ast.IfExp):
        test = node.test
        # ``==``/``in``/``is``, ``not`` and constants already have their negation.
        negated = (
            (
                isinstance(test, ast.Compare)
                and len(test.ops) == 1
                and isinstance(test.ops[0], _NEGATING)
            )
            or isinstance(test, ast.Constant)
            or (isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not))
        )
        if not negated:
            yield "test", None, ast.UnaryOp(ast.Not(), test)


def collect(tree: ast.Module) -> list[Mutant]:
    """Every mutant of ``tree``, in source order of discovery."""
    mutants: list[Mutant] = []

    def visit(node: ast.AST, where: str, stmt: ast.AST) -> None:
        for field, index, child in _children(node):
            if _skipped(child):
                continue
            line = getattr(child, "lineno", getattr(node, "lineno", 0))
            for f, i, new in _variants(child):
                mutants.append(Mutant(line, where, stmt, "", child, f, i, new))
            value = child.value if isinstance(child, ast.Constant) else None
            if isinstance(value, bool | int | float):
                bumped = (not value) if isinstance(value, bool) else value + 1
                mutants.append(
                    Mutant(
                        line, where, stmt, "", node, field, index, ast.Constant(bumped)
                    )
                )
            if isinstance(child, ast.UnaryOp) and isinstance(
                child.op, ast.Not | ast.USub
            ):
                mutants.append(
                    Mutant(line, where, stmt, "", node, field, index, child.operand)
                )
            if isinstance(child, _REMOVABLE) and index is not None and not _bare(child):
                mutants.append(
                    Mutant(line, where, stmt, "", node, field, index, ast.Pass())
                )
            inner = where
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                inner = child.name if where == "<module>" else f"{where}.{child.name}"
            visit(child, inner, child if isinstance(child, ast.stmt) else stmt)

    visit(tree, "<module>", tree)
    return [_described(m) for m in mutants]


def _described(m: Mutant) -> Mutant:
    slot = getattr(m.parent, m.field)
    old = slot[m.index] if m.index is not None else slot
    if isinstance(m.new, ast.Pass):
        text = f"remove `{_show(old)}`"
    else:
        # The smallest expression that shows the change: the parent, unless too long.
        before = after = ""
        if isinstance(m.parent, ast.expr | ast.Return | ast.AugAssign):
            before = _show(m.parent)
            m.swap(m.new)
            after = _show(m.parent)
            m.swap(old)
        simple = not isinstance(m.statement, ast.If | ast.While | ast.For | ast.With)
        if not before and simple and isinstance(m.statement, ast.stmt):
            before = _show(m.statement)
            m.swap(m.new)
            after = _show(m.statement)
            m.swap(old)
        is_op = isinstance(old, ast.cmpop | ast.operator | ast.boolop)
        if not is_op and (not before or before.endswith("...")):
            assert isinstance(old, ast.AST) and isinstance(m.new, ast.AST)
            before, after = _show(old), _show(m.new)
        text = f"`{before}` -> `{after}`"
    return Mutant(m.line, m.where, m.statement, text, m.parent, m.field, m.index, m.new)


_WARM = """
import sys, pytest
pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider", *sys.argv[2:]])
for name, module in sorted(sys.modules.items()):
    where = getattr(module, "__file__", None) or ""
    if not where.startswith(sys.argv[1]):
        print(name)
"""


def _warm(tmp: Path, tests: list[str]) -> None:
    """
    Import here what collecting ``tests`` imports, except the copied src and tests.

    Each mutant then runs in a fork of this process: pytest, its plugins (hypothesis
    takes seconds) and the dependencies are imported once, and the fork imports
    ``holysheep_client`` afresh from the mutated copy.
    """
    env = {**os.environ, "PYTHONPATH": str(tmp / "src")}
    names = subprocess.run(
        [sys.executable, "-c", _WARM, str(tmp), *tests],
        env=env,
        cwd=tmp,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for name in names:
        if name.partition(".")[0] not in ("holysheep_client", "__main__"):
            with contextlib.suppress(Exception):
                importlib.import_module(name)
    if "holysheep_client" in sys.modules:
        raise RuntimeError("a dependency imported holysheep_client before the fork")
    sys.path.insert(0, str(tmp / "src"))
    # Hash-checked bytecode: a mutant with the old file's size and mtime is still
    # recompiled, and the unchanged modules are compiled only once.
    compileall.compile_dir(
        tmp / "src",
        quiet=1,
        invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH,
    )


def _fork(job: Callable[[], int], timeout: float) -> str:
    """Run ``job`` in a fork: ``survived`` (it returned 0), ``killed`` or ``timeout``."""
    pid = os.fork()
    if pid == 0:  # the child: quiet, run, leave without any cleanup of the parent's
        code = 3
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            code = job()
        finally:
            os._exit(code)
    deadline = time.monotonic() + timeout
    done = 0
    try:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                code = os.waitstatus_to_exitcode(status)
                return "survived" if code == 0 else "killed"
            if time.monotonic() > deadline:
                break
            time.sleep(0.02)
    finally:  # a timeout, or this pass being stopped: the fork goes too
        if not done:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    return "timeout"


def _pytest(tests: list[str]) -> Callable[[], int]:
    def job() -> int:
        import pytest

        # The plugins were imported before pytest could rewrite their asserts: fine.
        quiet = ["-W", "ignore::pytest.PytestAssertRewriteWarning"]
        return int(pytest.main(["-x", "-q", "-p", "no:cacheprovider", *quiet, *tests]))

    return job


def _imports_from(src: Path) -> Callable[[], int]:
    def job() -> int:
        import holysheep_client

        return 0 if Path(holysheep_client.__file__).is_relative_to(src) else 1

    return job


def main(argv: list[str] | None = None) -> int:
    """Run the pass; the exit status is 1 when the score is under ``--fail-under``."""
    parser = argparse.ArgumentParser(description=DESCRIPTION)
    parser.add_argument(
        "module", help="a short name (" + ", ".join(MODULES) + ") or a path"
    )
    parser.add_argument(
        "tests", nargs="*", help="test files (default: the module's own)"
    )
    parser.add_argument("--sample", type=int, default=0, help="run at most N mutants")
    parser.add_argument("--seed", type=int, default=12, help="seed of the sample")
    parser.add_argument(
        "--list", action="store_true", help="list the mutants, run none"
    )
    parser.add_argument(
        "--fail-under", type=float, default=0.0, help="minimum score, %%"
    )
    args = parser.parse_args(argv)
    # A stopped pass (SIGTERM) still removes its copy and its fork.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))

    if args.module in MODULES:
        rel, default_tests = MODULES[args.module]
        path = PACKAGE / rel
    else:
        path = Path(args.module).resolve()
        rel = path.relative_to(PACKAGE).as_posix()
        default_tests = next((t for r, t in MODULES.values() if r == rel), ())
    tests = [
        Path(t).resolve().relative_to(ROOT).as_posix() if Path(t).is_absolute() else t
        for t in args.tests or default_tests
    ]
    if not tests:
        parser.error(f"no tests known for {rel}: name them")
    source = path.read_text()
    tree = ast.parse(source)
    mutants = collect(tree)
    total = len(mutants)
    if args.sample and total > args.sample:
        picked = random.Random(args.seed).sample(range(total), args.sample)
        mutants = [mutants[i] for i in sorted(picked)]

    def key(m: Mutant) -> tuple[str, str, str]:
        return (rel, m.where, m.description)

    if args.list:
        for m in mutants:
            mark = "  [allowlisted]" if key(m) in ALLOWLIST else ""
            print(f"{rel}:{m.line} ({m.where}): {m.description}{mark}")
        print(f"{len(mutants)} of {total} mutants")
        return 0

    with tempfile.TemporaryDirectory(prefix="mutation-") as tmp:
        # Snapshot src/ and tests/: editing the tree during a pass changes nothing.
        skip = shutil.ignore_patterns("__pycache__", ".hypothesis")
        copy_dir = Path(tmp) / "src" / "holysheep_client"
        shutil.copytree(PACKAGE, copy_dir, ignore=skip)
        shutil.copytree(ROOT / "tests", Path(tmp) / "tests", ignore=skip)
        shutil.copy(ROOT / "pyproject.toml", Path(tmp) / "pyproject.toml")
        target = copy_dir / rel
        src = (Path(tmp) / "src").resolve()
        ready = time.monotonic()
        _warm(Path(tmp).resolve(), tests)
        os.chdir(tmp)
        if _fork(_imports_from(src), 60) != "survived":
            print("the copy of src/ is not what gets imported", file=sys.stderr)
            return 2
        print(f"ready after {time.monotonic() - ready:.1f}s", flush=True)
        start = time.monotonic()
        target.write_text(
            ast.unparse(tree) + "\n"
        )  # the baseline, written like mutants
        if _fork(_pytest(tests), 600) != "survived":
            print("the tests fail on the unmutated module: fix them", file=sys.stderr)
            return 2
        timeout = max(20.0, 5 * (time.monotonic() - start))
        results: list[tuple[Mutant, str]] = []
        for n, m in enumerate(mutants, 1):
            old = m.swap(copy.copy(m.new))
            target.write_text(ast.unparse(tree) + "\n")
            m.swap(old)
            began = time.monotonic()
            outcome = _fork(_pytest(tests), timeout)
            results.append((m, outcome))
            took = time.monotonic() - began
            print(
                f"[{n}/{len(mutants)}] {outcome:8} {took:5.1f}s {rel}:{m.line} ({m.where}): {m.description}",
                flush=True,
            )
        target.write_text(source)

    survivors = [m for m, o in results if o == "survived"]
    equivalent = [m for m in survivors if key(m) in ALLOWLIST]
    stale = [m for m, o in results if o != "survived" and key(m) in ALLOWLIST]
    killed = len(results) - len(survivors)
    scored = len(results) - len(equivalent)
    score = 100.0 * killed / scored if scored else 100.0
    sampled = (
        f", sample {len(mutants)} of {total}, seed {args.seed}"
        if len(mutants) < total
        else ""
    )
    print(f"\n{rel}: {len(results)} mutants{sampled}; tests: {' '.join(tests)}")
    print(
        f"killed {killed}, survived {len(survivors) - len(equivalent)}, "
        f"equivalent (allowlisted) {len(equivalent)}: score {score:.1f}%"
    )
    for m in survivors:
        reason = ALLOWLIST.get(key(m))
        note = f"  [equivalent: {reason}]" if reason else ""
        print(f"  SURVIVED {rel}:{m.line} ({m.where}): {m.description}{note}")
    for m in stale:
        print(
            f"  STALE ALLOWLIST ENTRY (killed) {rel}:{m.line} ({m.where}): {m.description}"
        )
    return 0 if score >= args.fail_under else 1


if __name__ == "__main__":
    sys.exit(main())
