"""The ``routekit`` command line, run as a user runs it: a real subprocess on real files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from routekit.config import Configuration, read_config

ROOT = Path(__file__).resolve().parent.parent

DYNAMIC = """\
[http.routers.api]
rule = "Host(`api.example.com`) && PathPrefix(`/v1`)"
service = "api"

[http.routers.web]
rule = "Host(`example.com`) || Host(`www.example.com`)"
service = "web"

[[http.services.api.loadBalancer.servers]]
url = "http://10.0.0.1:8080"

[[http.services.web.loadBalancer.servers]]
url = "http://10.0.0.2:8080"
"""

V1 = """\
[frontends.legacy]
backend = "legacy"
  [frontends.legacy.routes.r1]
  rule = "Host:api.example.com;PathPrefixStrip:/old"

[backends.legacy.servers.s1]
url = "http://10.0.0.3:8080"
weight = 3
"""


def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "routekit", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
        check=False,
    )


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    dynamic = tmp_path / "dynamic.toml"
    dynamic.write_text(DYNAMIC)
    v1 = tmp_path / "v1.toml"
    v1.write_text(V1)
    return dynamic, v1


def test_check_ok_static_and_dynamic(files: tuple[Path, Path], tmp_path: Path) -> None:
    compat = sorted((ROOT / "docs" / "compat").glob("*.toml"))
    result = run("check", *files, *compat, cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert "dynamic.toml: ok — dynamic configuration; 2 router(s), 2 service(s)" in result.stdout
    assert "docker-v1.toml: ok — static configuration" in result.stdout
    assert "providers: docker" in result.stdout


def test_check_reports_every_problem_with_its_place(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        DYNAMIC
        + '\n[http.routers.broken]\nrule = "Host(`a.com`"\nservice = "apii"\n'
        + '\n[http.routers.typo]\nrule = "Path(`/x`)"\nservise = "web"\n'
    )
    result = run("check", bad, cwd=tmp_path)
    assert result.returncode == 1
    out = result.stdout
    assert "bad.toml:16:21: http.routers.broken.rule" in out  # the fault inside the string
    assert "bad.toml:17:1: http.routers.broken.service: unknown service 'apii'" in out
    assert "(did you mean 'api'?)" in out
    assert "^" in out  # the caret under the rule
    assert "servise" in out and "did you mean" in out
    assert "error(s)" in out


def test_check_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = run("check", tmp_path / "nope.toml", cwd=tmp_path)
    assert result.returncode == 2  # as for routes and match
    assert "nope.toml: no such file or directory" in result.stderr and not result.stdout


def test_check_directory_checks_each_file(tmp_path: Path) -> None:
    conf = tmp_path / "conf"
    (conf / "sub").mkdir(parents=True)
    (conf / "a.toml").write_text(
        '[http.routers.r]\nrule = "Host(`a.com`)"\nservice = "s"\n'
        '[[http.services.s.loadBalancer.servers]]\nurl = "http://10.0.0.1"\n'
    )
    (conf / "sub" / "b.toml").write_text('[http.routers.b]\nrule = "Host(`b.com`"\n')
    (conf / ".hidden.toml").write_text("not toml at all [")
    result = run("check", conf, cwd=tmp_path)
    assert result.returncode == 1
    assert "a.toml: ok" in result.stdout
    assert "b.toml:2:21: http.routers.b.rule" in result.stdout
    assert "hidden" not in result.stdout
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run("check", empty, cwd=tmp_path)
    assert result.returncode == 0 and "no .toml files" in result.stdout


def test_streams_are_the_same_for_every_command(tmp_path: Path) -> None:
    # The answer on stdout, diagnostics (usage errors, problems met on the way) on stderr.
    broken = tmp_path / "broken.toml"
    broken.write_text('[http.routers.r]\nrule = "Host(`a.com`)"\nservice = "missing"\n')
    routes = run("routes", broken, cwd=tmp_path)
    assert "unknown service" in routes.stderr and "unknown service" not in routes.stdout
    match = run("match", broken, "--url", "http://a.com/", cwd=tmp_path)
    assert "unknown service" in match.stderr and "unknown service" not in match.stdout
    check = run("check", broken, cwd=tmp_path)
    assert "unknown service" in check.stdout  # the problems are what check is asked for
    for command in (["routes"], ["match", "--url", "http://a/"], ["check"]):
        result = run(*command, tmp_path / "nope.toml", cwd=tmp_path)
        assert result.returncode == 2 and "no such file" in result.stderr, command
        assert not result.stdout
    bad_url = run("match", broken, "--url", "nope", cwd=tmp_path)
    assert bad_url.returncode == 2 and "--url" in bad_url.stderr and not bad_url.stdout


def test_routes_prints_priority_order(files: tuple[Path, Path], tmp_path: Path) -> None:
    result = run("routes", *files, cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    lines = [ln.split() for ln in result.stdout.splitlines() if "@file" in ln]
    assert [ln[1] for ln in lines] == ["web@file", "api@file", "legacy@file"]
    assert [int(ln[0]) for ln in lines] == [46, 44, 41]  # v1 priority kept explicitly
    assert "[stripPrefix]" in result.stdout  # the v1 modifier became a middleware


def test_match_explains_the_decision(files: tuple[Path, Path], tmp_path: Path) -> None:
    result = run(
        "match", *files, "--url", "http://api.example.com/old/x", "-H", "X-A: 1", cwd=tmp_path
    )
    assert result.returncode == 0, result.stdout
    assert "winner: legacy@file" in result.stdout
    assert "Host(`example.com`) did not match host 'api.example.com'" in result.stdout
    assert "PathPrefix(`/v1`) did not match path '/old/x'" in result.stdout

    miss = run("match", *files, "--url", "http://nowhere.org/", cwd=tmp_path)
    assert miss.returncode == 1
    assert "no route matched (404)" in miss.stdout

    bad = run("match", *files, "--url", "/relative", cwd=tmp_path)
    assert bad.returncode == 2 and "absolute URL" in bad.stderr


def test_migrate_v1_toml_keeps_priorities(files: tuple[Path, Path], tmp_path: Path) -> None:
    result = run("migrate", files[1], "--to", "v3", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    migrated = tmp_path / "migrated.toml"
    migrated.write_text(result.stdout)
    config = read_config(migrated).config
    assert isinstance(config, Configuration)
    router = config.http.routers["legacy"]
    assert router.rule == "Host(`api.example.com`) && PathPrefix(`/old`)"
    assert router.priority == len("Host:api.example.com;PathPrefixStrip:/old")
    (mw,) = router.middlewares
    assert config.http.middlewares[mw].prefixes == ("/old",)  # type: ignore[union-attr]
    weights = [s.weight for s in config.http.services["legacy"].load_balancer.servers]  # type: ignore[union-attr]
    assert weights == [3]


def test_migrate_rules_and_labels(tmp_path: Path) -> None:
    rules = tmp_path / "rules.txt"
    rules.write_text("# one rule a line\nHost:a.com;PathPrefixStrip:/api\nHost:b.com,c.com\n")
    result = run("migrate", rules, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert 'rule = "Host(`a.com`) && PathPrefix(`/api`)"' in result.stdout
    assert 'rule = "Host(`b.com`) || Host(`c.com`)"' in result.stdout
    assert "priority = 31" in result.stdout and "stripPrefix" in result.stdout

    labels = tmp_path / "labels.txt"
    labels.write_text(
        "traefik.frontend.rule=Host:web.example.com\ntraefik.port=8080\ntraefik.weight=5\n"
    )
    result = run("migrate", labels, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Host(`web.example.com`)" in result.stdout
    assert "weight = 5" in result.stdout and ":8080" in result.stdout


V2 = """\
[http.routers.sub]
rule = "HostRegexp(`{sub:[a-z]+}.example.com`) && PathPrefix(`/api`)"
ruleSyntax = "v2"
service = "web"

[http.routers.multi]
rule = "Host(`a.example.com`, `b.example.com`)"
service = "web"

[tcp.routers.db]
rule = "HostSNI(`db.example.com`, `pg.example.com`)"
service = "db"
tls = {}

[[http.services.web.loadBalancer.servers]]
url = "http://10.0.0.2:8080"

[[tcp.services.db.loadBalancer.servers]]
address = "10.0.0.4:5432"
"""


def test_migrate_translates_v2_rules_to_v3_keeping_the_order(tmp_path: Path) -> None:
    v2 = tmp_path / "v2.toml"
    v2.write_text(V2)
    result = run("migrate", v2, "--rule-syntax", "v2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    migrated = tmp_path / "v3.toml"
    migrated.write_text(result.stdout)
    assert "ruleSyntax" not in result.stdout
    assert run("check", migrated, cwd=tmp_path).returncode == 0
    config = read_config(migrated).config
    sub = config.http.routers["sub"]
    assert sub.rule == r"HostRegexp(`(?i)^[a-z]+\.example\.com$`) && PathPrefix(`/api`)"
    assert sub.priority == len("HostRegexp(`{sub:[a-z]+}.example.com`) && PathPrefix(`/api`)")
    multi = config.http.routers["multi"]
    assert multi.rule == "Host(`a.example.com`) || Host(`b.example.com`)"
    assert multi.priority == len("Host(`a.example.com`, `b.example.com`)")
    db = config.tcp.routers["db"]
    assert db.rule == "HostSNI(`db.example.com`) || HostSNI(`pg.example.com`)"

    # Without --rule-syntax the file is read as Traefik v3 reads it: only the router that says
    # ruleSyntax = "v2" is translated, and the v2-only spellings are refused, named.
    as_v3 = run("migrate", v2, cwd=tmp_path)
    assert as_v3.returncode == 1
    assert "http.routers.multi" in as_v3.stderr and "tcp.routers.db" in as_v3.stderr
    assert "[http.routers.sub]" in as_v3.stdout and "[http.routers.multi]" not in as_v3.stdout


def test_migrate_output_passes_check_or_the_problem_is_reported(tmp_path: Path) -> None:
    labels = tmp_path / "labels.txt"
    labels.write_text(
        "traefik.http.routers.r.rule=Host(`a.com`)\n"
        "traefik.http.services.s.loadbalancer.server.port=x\n"
        "traefik.tcp.routers.t.rule=HostSNI(`a.com`) && Foo(`x`)\n"
        "traefik.tcp.services.t.loadbalancer.server.port=5432\n"
    )
    result = run("migrate", labels, cwd=tmp_path)
    assert result.returncode == 1
    assert "bad URL 'http://127.0.0.1:x'" in result.stderr
    assert "unknown matcher 'Foo'" in result.stderr
    assert "placeholder 127.0.0.1" in result.stdout  # the invented address is said
    migrated = tmp_path / "v3.toml"
    migrated.write_text(result.stdout)
    assert run("check", migrated, cwd=tmp_path).returncode == 0


def test_migrate_v1_labels_to_compose_labels(tmp_path: Path) -> None:
    labels = tmp_path / "labels.txt"
    labels.write_text(
        "traefik.frontend.rule=Host:web.example.com;PathPrefixStrip:/app\n"
        "traefik.port=8080\n"
        "traefik.weight=5\n"
    )
    result = run("migrate", labels, "--format", "labels", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    written = dict(line.split("=", 1) for line in result.stdout.splitlines())
    assert "127.0.0.1" not in result.stdout  # ports, not addresses: the provider fills them in
    (router,) = {k.split(".")[3] for k in written if k.startswith("traefik.http.routers.")}
    base = f"traefik.http.routers.{router}"
    assert written[f"{base}.rule"] == "Host(`web.example.com`) && PathPrefix(`/app`)"
    assert written[f"{base}.priority"] == str(len("Host:web.example.com;PathPrefixStrip:/app"))
    service = written[f"{base}.service"]
    assert written[f"traefik.http.services.{service}.loadBalancer.server.port"] == "8080"
    assert written[f"traefik.http.services.{service}.loadBalancer.server.weight"] == "5"
    # Pasted on a container, the labels route as the v1 ones did.
    from routekit.config import ContainerInfo, labels_to_config

    container = ContainerInfo(name="web", labels=written, addresses={"bridge": "172.17.0.5"})
    config, problems = labels_to_config([container])
    assert problems == ()
    (server,) = config.http.services[service].load_balancer.servers  # type: ignore[union-attr]
    assert (server.url, server.weight) == ("http://172.17.0.5:8080", 5)
    (mw,) = config.http.routers[router].middlewares
    assert config.http.middlewares[mw].prefixes == ("/app",)  # type: ignore[union-attr]


def test_no_command_prints_help(tmp_path: Path) -> None:
    result = run(cwd=tmp_path)
    assert result.returncode == 2 and "check" in result.stdout


def test_tls_routers_are_listed_and_matched_for_https(tmp_path: Path) -> None:
    compat = ROOT / "docs" / "compat" / "dynamic-v2.toml"
    listed = run("routes", compat, cwd=tmp_path)
    assert listed.returncode == 0, listed.stdout
    assert "entry point websecure (TLS):" in listed.stdout
    assert "api@file" in listed.stdout.split("entry point websecure (TLS):")[1]

    url = "https://api.example.com/v1/users"
    matched = run("match", compat, "--url", url, "-e", "websecure", cwd=tmp_path)
    assert matched.returncode == 0, matched.stdout
    assert "winner: api@file → service api@file via [stripPrefix" in matched.stdout
    # The same request over plain http meets the non-TLS routers only.
    plain = run(
        "match", compat, "--url", "http://api.example.com/v1/users", "-e", "websecure", cwd=tmp_path
    )
    assert plain.returncode == 1 and "no entry point 'websecure' for http" in plain.stderr


def test_routes_exits_1_and_prints_each_problem_once(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text(DYNAMIC + '[http.routers.lost]\nrule = "Host(`x.io`)"\nservice = "nope"\n')
    result = run("routes", broken, cwd=tmp_path)
    assert result.returncode == 1, result.stdout
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert lines and len(lines) == len(set(lines)), lines
    assert "api@file" in result.stdout or "api" in result.stdout


@pytest.mark.parametrize("command", ["routes", "match"])
def test_a_missing_file_is_a_usage_error(command: str, tmp_path: Path) -> None:
    extra = ["--url", "http://a.io/"] if command == "match" else []
    result = run(command, tmp_path / "absent.toml", *extra, cwd=tmp_path)
    assert result.returncode == 2, result
    assert "absent.toml: no such file or directory" in result.stderr


def test_match_rejects_a_client_ip_that_is_not_an_address(
    files: tuple[Path, Path], tmp_path: Path
) -> None:
    result = run("match", files[0], "--url", "http://a.io/", "--client-ip", "nope", cwd=tmp_path)
    assert result.returncode == 2
    assert "not an IP address: 'nope'" in result.stderr


def test_routes_reads_a_v1_static_file_with_inline_frontends(tmp_path: Path) -> None:
    static = tmp_path / "traefik.toml"
    static.write_text(
        'defaultEntryPoints = ["http"]\n[entryPoints.http]\naddress = ":80"\n[file]\n' + V1
    )
    result = run("routes", static, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "entry point http:" in result.stdout
    assert "legacy@inline" in result.stdout
    assert "entry point web" not in result.stdout


def test_match_follows_a_v2_static_file_to_its_dynamic_file(
    files: tuple[Path, Path], tmp_path: Path
) -> None:
    static = tmp_path / "static.toml"
    static.write_text(
        f'[entryPoints.edge]\naddress = ":80"\n[providers.file]\nfilename = "{files[0]}"\n'
    )
    result = run("match", static, "--url", "http://api.example.com/v1/x", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "entry point edge" in result.stdout
    assert "api@file" in result.stdout


def test_cli_reports_a_non_utf8_file_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_bytes(b"[http.routers.a]\nrule = '\xff'\n")
    for command in ("check", "migrate"):
        result = run(command, path, cwd=tmp_path)
        assert result.returncode == 1, (command, result)
        both = result.stdout + result.stderr
        assert "Traceback" not in both
        assert "not UTF-8 text" in both


def test_cli_routes_into_a_closed_pipe_exits_quietly(tmp_path: Path) -> None:
    path = tmp_path / "d.toml"
    routers = "".join(
        f'[http.routers.r{i}]\nrule = "Host(`h{i}.io`)"\nservice = "s"\n' for i in range(3000)
    )
    path.write_text(
        routers + '[[http.services.s.loadBalancer.servers]]\nurl = "http://127.0.0.1:1"\n'
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "routekit", "routes", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()  # what `| head -1` does
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=60) == 0, err
    assert "Traceback" not in err and "BrokenPipeError" not in err
