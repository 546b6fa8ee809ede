"""Docker/buildkit and Kubernetes failures."""
from __future__ import annotations

from ..case import Case, Project, failure
from ..vocab import Vocab

BASES = ["python:3.11-slim", "python:3.12-slim", "node:20-alpine", "node:18-bullseye", "golang:1.22",
         "eclipse-temurin:17-jre", "maven:3.9-eclipse-temurin-21", "ruby:3.2", "rust:1.77-slim",
         "mcr.microsoft.com/dotnet/sdk:8.0", "nginx:1.25-alpine", "ubuntu:22.04", "debian:bookworm-slim"]


def _dockerfile_window(v: Vocab, instr: str, at: int, base: str) -> list[str]:
    """Buildkit's excerpt of the Dockerfile: two lines before the failing instruction, one after."""
    before = ["WORKDIR /app", "ENV PYTHONDONTWRITEBYTECODE=1", "ARG BUILD_VERSION", "RUN apt-get update && apt-get install -y --no-install-recommends curl",
              "ENV NODE_ENV=production", "USER app"]
    first = [f"FROM {base} AS builder"] if at == 3 else []
    chosen = v.sample(before, 2)
    picked = first + [line for line in before if line in chosen][: 2 - len(first)]
    out = ["Dockerfile:%d" % at, "--------------------"]
    for i, text in enumerate(picked):
        out.append(f"{at - len(picked) + i:>4} |     {text}")
    out.append(f"{at:>4} | >>> {instr}")
    after = {"python": "pip install --no-cache-dir -r requirements.txt", "node": "npm ci", "golang": "go mod download",
             "ruby": "bundle install", "maven": "mvn -B -q package -DskipTests"}.get(base.split(":")[0].split("/")[-1], "make build")
    out.append(f"{at + 1:>4} |     RUN {after}")
    out.append("--------------------")
    return out


@failure("docker_copy_missing", "container", "docker")
def docker_copy_missing(v: Vocab, p: Project) -> Case:
    src = v.pick(["requirements.txt", "package.json", "go.sum", "target/app.jar", "dist/", "config/nginx.conf",
                  "poetry.lock", "Gemfile.lock", "build/libs/app.jar", "scripts/entrypoint.sh", "yarn.lock"])
    instr = f"COPY {src} {v.pick(['.', './', '/app/', '/usr/src/app/'])}"
    base = {"requirements.txt": "python:3.11-slim", "poetry.lock": "python:3.12-slim", "package.json": "node:20-alpine", "yarn.lock": "node:18-bullseye",
            "go.sum": "golang:1.22", "Gemfile.lock": "ruby:3.2"}.get(src) or v.pick(BASES)
    n, at, total = v.int(7, 9), v.int(3, 30), v.int(6, 12)
    stage = v.int(2, 4)
    ref = v.hex(12)
    if v.chance(0.75):
        lines = [f"#{n} [builder {stage}/{total}] {instr}",
                 f"#{n} ERROR: failed to calculate checksum of ref {ref}::{v.alnum(25).lower()}: \"/{src.rstrip('/')}\": not found",
                 "------", f" > [builder {stage}/{total}] {instr}:", "------"]
        lines += _dockerfile_window(v, instr, at, base)
        lines.append(f"ERROR: failed to solve: failed to compute cache key: failed to calculate checksum of ref {ref}: \"/{src.rstrip('/')}\": not found")
    else:
        lines = [f"Step {v.int(3, 6)}/{total} : {instr}",
                 f"COPY failed: file not found in build context or excluded by .dockerignore: stat {src.rstrip('/')}: file does not exist"]
    built = src.startswith(("target/", "dist/", "build/"))
    fixes = [f"Add {src} to the repository (or fix the path in the COPY instruction) and make sure .dockerignore does not exclude it.",
             f"Point the COPY at the real location of {src} relative to the build context, and check .dockerignore."]
    if built:
        fixes = [f"Build the artifact before docker build (run the build step that produces {src}) or use a multi-stage build that creates it.",
                 f"{src} is a build output: produce it in an earlier stage of the Dockerfile or in a CI step before the image build."]
    return Case(
        step="Build image", command=f"docker build -t {p.org}/{p.repo}:{v.hex(7)} .", lines=lines, key_ids=[src.rstrip("/")],
        causes=[f"The Dockerfile's COPY {src.rstrip('/')} step failed because {src.rstrip('/')} is not in the build context.",
                f"docker build could not find {src.rstrip('/')} in the build context, so the COPY instruction failed.",
                f"The build context does not contain {src.rstrip('/')} (missing or excluded by .dockerignore), which breaks COPY."],
        fixes=fixes,
        runbook=[f"Run `make docker-context` before the build so {src.rstrip('/')} is staged into the context, as the container runbook requires.",
                 f"Build with `docker build -f docker/Dockerfile .` from the repo root; our images expect the root as context, where {src.rstrip('/')} lives."],
        summary=f"docker build: COPY {src.rstrip('/')} not found in build context", setup="docker", image=base)


@failure("docker_base_image_missing", "container", "docker")
def docker_base_image_missing(v: Vocab, p: Project) -> Case:
    name = v.pick(["python", "node", "golang", "openjdk", "ruby", "nginx"])
    tag = v.pick([f"{v.int(3, 22)}.{v.int(0, 14)}-slim-bullseye", f"{v.int(8, 22)}-alpine{v.int(3, 3)}.{v.int(10, 22)}", f"{v.int(1, 3)}.{v.int(0, 30)}-buster"])
    image = f"{name}:{tag}"
    lines = [f"#2 [internal] load metadata for docker.io/library/{image}",
             f"#2 ERROR: docker.io/library/{image}: not found",
             "------", f" > [internal] load metadata for docker.io/library/{image}:", "------",
             f"ERROR: failed to solve: {image}: failed to resolve source metadata for docker.io/library/{image}: docker.io/library/{image}: not found"]
    if v.chance(0.4):
        lines = [f"Step 1/{v.int(6, 12)} : FROM {image}",
                 f"manifest for {image} not found: manifest unknown: manifest unknown"]
    return Case(
        step="Build image", command="docker build .", lines=lines, key_ids=[image],
        causes=[f"The base image {image} in the Dockerfile's FROM line does not exist on Docker Hub.",
                f"docker build failed because the tag {image} cannot be resolved (manifest unknown)."],
        fixes=[f"Change FROM to an existing tag (check Docker Hub for {name}) and pin it, e.g. by digest.",
               f"Use a published tag for {name}; old or mistyped tags such as {tag} are not available."],
        runbook=[f"Use the mirrored base image registry.{p.org}.internal/base/{name} instead of Docker Hub tags; the platform team keeps it patched.",
                 "Pin base images in docker/bases.lock and update them with `make bump-bases`."],
        summary=f"Base image {image} not found", setup="none")


@failure("docker_apt_package_missing", "container", "docker")
def docker_apt_missing(v: Vocab, p: Project) -> Case:
    pkg = v.pick(["libpq-dev", "python3.9-dev", "libssl1.1", "openjdk-11-jdk", "libmysqlclient-dev", "gcc-10", "libffi6"])
    n = v.int(5, 9)
    lines = [f"#{n} [{v.int(2, 4)}/{v.int(6, 10)}] RUN apt-get update && apt-get install -y --no-install-recommends {pkg} curl",
             f"#{n} 0.{v.int(3, 9)} Get:1 http://deb.debian.org/debian bookworm InRelease [151 kB]",
             f"#{n} 2.{v.int(0, 9)} Fetched {v.int(8, 9)}.{v.int(0, 9)} MB in 2s ({v.int(3, 5)}.{v.int(0, 9)} MB/s)",
             f"#{n} 3.{v.int(0, 9)} Reading package lists...",
             f"#{n} 3.{v.int(0, 9)} Building dependency tree...",
             f"#{n} 3.{v.int(0, 9)} E: Unable to locate package {pkg}" if v.chance(0.6) else
             f"#{n} 3.{v.int(0, 9)} E: Package '{pkg}' has no installation candidate",
             f"#{n} ERROR: process \"/bin/sh -c apt-get update && apt-get install -y --no-install-recommends {pkg} curl\" did not complete successfully: exit code: 100",
             f"ERROR: failed to solve: process \"/bin/sh -c apt-get update && apt-get install -y --no-install-recommends {pkg} curl\" did not complete successfully: exit code: 100"]
    return Case(
        step="Build image", command="docker buildx build --load -t app .", lines=lines, key_ids=[pkg],
        causes=[f"apt-get cannot install {pkg} in the image because the base image's Debian release does not provide it.",
                f"The Dockerfile's apt-get install step exits 100: package {pkg} is not available in this distribution."],
        fixes=[f"Replace {pkg} with the package name for the base image's release (search packages.debian.org) or pin an older base image.",
               f"Use the current equivalent of {pkg} for this distro, or switch the FROM image to the release that still ships it."],
        runbook=[f"Install build deps from docker/apt-packages.txt, which maps {pkg} to the right name per base release; update that file, not the Dockerfile."],
        summary=f"apt-get cannot find {pkg} in Docker build", setup="docker")


@failure("docker_push_denied", "auth", "docker")
def docker_push_denied(v: Vocab, p: Project) -> Case:
    reg = v.pick(["ghcr.io", "docker.io", f"{v.int(100000000000, 999999999999)}.dkr.ecr.us-east-1.amazonaws.com", "registry.gitlab.com"])
    image = f"{reg}/{p.org}/{p.repo}"
    tag = v.pick(["latest", f"v{v.version(3)}", v.hex(7)])
    lines = [f"The push refers to repository [{image}]",
             f"{v.hex(12)}: Preparing", f"{v.hex(12)}: Preparing", f"{v.hex(12)}: Waiting"]
    lines.append(v.pick(["denied: requested access to the resource is denied",
                         "unauthorized: authentication required",
                         f"denied: permission_denied: write_package"]))
    return Case(
        step="Push image", command=f"docker push {image}:{tag}", lines=lines, key_ids=[image],
        causes=[f"docker push to {image} was denied because the job is not logged in with credentials that can write to that registry.",
                f"The registry rejected the push of {image}: the CI credentials lack write access."],
        fixes=["Add a docker login step (e.g. docker/login-action) with a token that has write/push scope before pushing.",
               "Grant the CI token package write permission (for GHCR: permissions: packages: write) and log in before docker push."],
        runbook=["Use the shared `registry-push` OIDC role; add `uses: ./.github/actions/registry-login` before the push step.",
                 "Request push rights for the repo in #team-platform; tokens are rotated monthly, so never paste a personal PAT."],
        summary=f"docker push denied for {image}", setup="docker")


@failure("dockerfile_syntax", "container", "docker")
def dockerfile_syntax(v: Vocab, p: Project) -> Case:
    bad = v.pick(["RUNN", "COPPY", "EXPOSE8080", "WORKDIRR", "CDM", "ENTRYPIONT"])
    at = v.int(3, 40)
    path = v.pick(["Dockerfile", "docker/Dockerfile", "build/Dockerfile.prod"])
    lines = ["#1 [internal] load build definition from Dockerfile",
             f"#1 transferring dockerfile: {v.int(300, 2000)}B done", "#1 DONE 0.0s",
             f"{path}:{at}", "--------------------", f"{at:>4} | >>> {bad} {v.pick(['make install', '. /app', 'npm start'])}", "--------------------",
             f"ERROR: failed to solve: dockerfile parse error on line {at}: unknown instruction: {bad}"]
    return Case(
        step="Build image", command=f"docker build -f {path} .", lines=lines, key_ids=[bad, f"line {at}"],
        causes=[f"{path} has an unknown instruction {bad} on line {at}, so the Dockerfile cannot be parsed.",
                f"The Dockerfile parse fails at line {at}: {bad} is not a valid instruction."],
        fixes=[f"Fix the typo on line {at} of {path} (use a valid instruction such as RUN, COPY or CMD) and lint it with hadolint.",
               f"Correct {bad} on line {at} and add hadolint to pre-commit so parse errors fail before CI."],
        runbook=[f"Fix line {at} of {path} and run `make lint-docker` (hadolint, same config as the pipeline) before pushing."],
        summary=f"Dockerfile parse error: unknown instruction {bad}", setup="none")


@failure("k8s_manifest_invalid", "configuration", "kubernetes")
def k8s_manifest_invalid(v: Vocab, p: Project) -> Case:
    kind = v.pick(["Deployment", "Service", "Ingress", "CronJob", "StatefulSet"])
    field = v.pick(["replica", "contianers", "imagePullPolicys", "livenessprobe", "serviceAccount_name", "port_name"])
    path = f"k8s/{v.pick(['base', 'overlays/prod', 'overlays/staging', 'manifests'])}/{kind.lower()}.yaml"
    where = v.pick(["spec", "spec.template.spec", "spec.template.spec.containers[0]"])
    lines = [f"deployment.apps/{p.repo} unchanged" if kind != "Deployment" else f"configmap/{p.repo}-config configured",
             f"Error from server (BadRequest): error when creating \"{path}\": {kind} in version \"v1\" cannot be handled as a {kind}: strict decoding error: unknown field \"{where}.{field}\""]
    if v.chance(0.4):
        lines[-1] = f"error: error validating \"{path}\": error validating data: ValidationError({kind}.{where}): unknown field \"{field}\" in io.k8s.api; if you choose to ignore these errors, turn validation off with --validate=false"
    return Case(
        step="Deploy", command=f"kubectl apply -f {path}", lines=lines, key_ids=[field, path],
        causes=[f"kubectl apply rejected {path}: the {kind} has an unknown field {field} under {where}.",
                f"The manifest {path} is invalid because {field} is not a field of {kind} {where}."],
        fixes=[f"Fix the field name {field} in {path} (check `kubectl explain {kind.lower()}.{where}`) and validate manifests with kubeconform in CI.",
               f"Correct or remove {field} in {path}; do not pass --validate=false."],
        runbook=[f"Fix {field} in {path} and run `make k8s-validate` (kubeconform with the cluster's schema version) before pushing."],
        summary=f"kubectl apply: unknown field {field} in {kind}", setup="kubectl")


@failure("k8s_rollout_timeout", "infrastructure", "kubernetes")
def k8s_rollout_timeout(v: Vocab, p: Project) -> Case:
    dep = p.repo
    reason = v.pick(["ImagePullBackOff", "CrashLoopBackOff", "ErrImagePull", "CreateContainerConfigError"])
    pod = f"{dep}-{v.hex(10)}-{v.alnum(5).lower()}"
    lines = [f"Waiting for deployment \"{dep}\" rollout to finish: 1 out of {v.int(2, 6)} new replicas have been updated...",
             f"Waiting for deployment \"{dep}\" rollout to finish: 1 old replicas are pending termination...",
             f"error: deployment \"{dep}\" exceeded its progress deadline",
             f"+ kubectl get pods -l app={dep}",
             "NAME                                  READY   STATUS             RESTARTS   AGE",
             f"{pod}   0/1     {reason}   {v.int(0, 9)}          {v.int(3, 10)}m"]
    fix = {"ImagePullBackOff": "Check that the image tag was pushed and that the cluster has pull credentials (imagePullSecrets) for the registry.",
           "ErrImagePull": "Make sure the image tag exists in the registry and the node can pull it (imagePullSecrets).",
           "CrashLoopBackOff": f"Read `kubectl logs {pod} --previous` to see why the container exits, fix the app or its config, and redeploy.",
           "CreateContainerConfigError": "A referenced ConfigMap or Secret is missing; create it in the namespace or fix the name in the Deployment."}[reason]
    return Case(
        step="Deploy", command=f"kubectl rollout status deployment/{dep} --timeout={v.pick(['120s', '300s', '5m'])}",
        lines=lines, key_ids=[reason, dep],
        causes=[f"The rollout of deployment {dep} timed out because its new pods are in {reason}.",
                f"Deployment {dep} exceeded its progress deadline: pod {pod} is stuck in {reason}."],
        fixes=[fix], runbook=[f"Roll back with `kubectl rollout undo deployment/{dep}` first, then follow the {reason} section of the k8s runbook."],
        summary=f"Rollout of {dep} stuck in {reason}", setup="kubectl")


@failure("k8s_unauthorized", "auth", "kubernetes")
def k8s_unauthorized(v: Vocab, p: Project) -> Case:
    ns = v.pick(["prod", "staging", p.repo, "default", "payments"])
    sa = f"system:serviceaccount:ci:{v.pick(['deployer', 'github-actions', 'gitlab-runner'])}"
    res = v.pick(["deployments.apps", "secrets", "configmaps", "ingresses.networking.k8s.io"])
    if v.chance(0.5):
        lines = [f"Error from server (Forbidden): {res} \"{p.repo}\" is forbidden: User \"{sa}\" cannot patch resource \"{res.split('.')[0]}\" in API group \"{'.'.join(res.split('.')[1:])}\" in the namespace \"{ns}\""]
        keys = [sa, ns]
        cause = f"The CI service account {sa} has no RBAC permission to patch {res} in namespace {ns}."
        fix = f"Grant {sa} a Role/RoleBinding in {ns} that allows patch on {res}, or deploy with the account that has it."
    else:
        lines = ["error: You must be logged in to the server (Unauthorized)"]
        keys = ["Unauthorized"]
        cause = "kubectl is not authenticated to the cluster (Unauthorized): the kubeconfig credentials are missing or expired."
        fix = "Refresh the cluster credentials in the job (e.g. aws eks update-kubeconfig or the KUBECONFIG secret) before kubectl runs."
    return Case(step="Deploy", command=f"kubectl apply -n {ns} -f k8s/", lines=lines, key_ids=keys, causes=[cause], fixes=[fix],
                runbook=["Deploy through the `deploy-bot` OIDC role; the kubeconfig secret is rotated weekly and old copies stop working."],
                summary="kubectl denied: " + ("RBAC forbidden" if len(keys) == 2 else "Unauthorized"), setup="kubectl")
