"""The package as users meet it: its public names, its typing marker, a light import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import routekit

SRC = Path(routekit.__file__).parent


def test_every_public_name_resolves_and_is_documented() -> None:
    for name in routekit.__all__:
        value = getattr(routekit, name)
        assert value is not None, name
        if callable(value):
            assert (value.__doc__ or "").strip(), f"routekit.{name} has no docstring"
    assert sorted(dir(routekit)) == sorted(set(dir(routekit)))
    assert set(routekit.__all__) <= set(dir(routekit))


def test_star_imports_of_the_model_never_shadow_a_runtime_name() -> None:
    import hypothesis

    import routekit.config
    import routekit.rules

    namespace: dict[str, object] = {}
    exec(
        "from hypothesis import *\nfrom routekit import *\nfrom routekit.config import *", namespace
    )
    assert namespace["Headers"] is routekit.Headers
    assert namespace["Server"] is routekit.Server
    assert namespace["HealthCheck"] is hypothesis.HealthCheck
    for module in (routekit, routekit.rules, routekit.balance, hypothesis):
        shared = set(module.__all__) & set(routekit.config.__all__)
        assert all(getattr(module, n) is getattr(routekit.config, n) for n in shared), shared
    # The model classes are still there, through the module.
    assert routekit.config.Headers.__module__.startswith("routekit.config")


def test_unknown_attribute_is_an_attribute_error() -> None:
    try:
        routekit.does_not_exist  # noqa: B018
    except AttributeError as exc:
        assert "does_not_exist" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_py_typed_marker_is_shipped() -> None:
    assert (SRC / "py.typed").is_file()


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint('\\n'.join(sys.modules))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return set(out.split())


def test_import_routekit_is_light() -> None:
    loaded = _modules_after("import routekit")
    for heavy in ("anyio", "h11", "tomlkit", "hypothesis", "asyncio", "trio"):
        assert heavy not in loaded, f"import routekit pulled in {heavy}"


def test_pure_core_needs_no_io_libraries() -> None:
    loaded = _modules_after(
        "import routekit, routekit.rules, routekit.routing, routekit.balance\n"
        "routekit.RouteTable([routekit.Route('a', 'Host(`a`)', target=1)])"
        ".match(routekit.Request(host='a'))"
    )
    for io_lib in ("anyio", "h11", "asyncio", "socket", "trio"):
        assert io_lib not in loaded, f"the pure core imported {io_lib}"


def test_the_configuration_model_validates_without_the_balancers() -> None:
    loaded = _modules_after(
        "from routekit.config import reads_config\n"
        "reads_config('[http.services.s.loadBalancer]\\nservers = [{url = \"http://a:80\"}]\\n'"
        " '[http.services.s.loadBalancer.sticky.cookie]\\nsameSite = \"lax\"\\n')"
    )
    assert "routekit.config" in loaded
    assert not {m for m in loaded if m.startswith(("routekit.balance", "routekit.runtime"))}


def test_console_script_runs() -> None:
    exe = Path(sys.executable).with_name("routekit")
    result = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert "check" in result.stdout and "migrate" in result.stdout


def test_module_entry_point_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "routekit", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and "routes" in result.stdout


PUBLIC_MODULES = [
    "routekit",
    "routekit.errors",
    "routekit.request",
    "routekit.rules",
    "routekit.routing",
    "routekit.balance",
    "routekit.config",
    "routekit.providers",
    "routekit.runtime",
    "routekit.testing",
]


def test_every_public_class_and_function_has_a_docstring() -> None:
    import importlib
    import inspect

    missing = []
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        assert (module.__doc__ or "").strip(), f"{module_name} has no docstring"
        for name in module.__all__:
            value = getattr(module, name)
            if (inspect.isclass(value) or inspect.isfunction(value)) and not (
                value.__doc__ or ""
            ).strip():
                missing.append(f"{module_name}.{name}")
    assert missing == []


def test_a_strategy_without_hypothesis_says_which_extra_to_install() -> None:
    code = (
        "import sys\n"
        "sys.modules['hypothesis'] = None\n"
        "import routekit.testing\n"
        "try:\n"
        "    routekit.testing.rules\n"
        "except ModuleNotFoundError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert "routekit.testing.rules needs the 'hypothesis' package" in out
    assert "pip install 'routekit[test]'" in out


def test_packages_use_each_other_only_through_their_init_names() -> None:
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "src" / "routekit"
    # `from ..pkg._module import …` (a sibling package's private module); `.._lazy` is the
    # package root's own helper, shared by the namespaces.
    private = re.compile(r"^\s*from \.\.[a-z]\w*\._\w+ import", re.MULTILINE)
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if private.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
