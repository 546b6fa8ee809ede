"""Terraform, Git checkout/auth and runner failures (OOM, disk, timeouts, network)."""
from __future__ import annotations

from ..case import Case, Project, failure
from ..vocab import TF_RESOURCES, Vocab


@failure("terraform_invalid_config", "configuration", "terraform")
def tf_invalid(v: Vocab, p: Project) -> Case:
    res = v.pick(TF_RESOURCES)
    name = v.word()
    f = v.pick(["main.tf", "s3.tf", "iam.tf", f"modules/{v.word()}/main.tf", "network.tf"])
    ln = v.line()
    arg = v.pick(["acl_policy", "bucket_name", "instance_typ", "assume_role", "tags_all_x", "vpc_security_group"])
    kind = v.pick(["unsupported", "undeclared"])
    if kind == "unsupported":
        lines = ["╷", "│ Error: Unsupported argument", "│ ", f"│   on {f} line {ln}, in resource \"{res}\" \"{name}\":",
                 f"│ {ln:>3}:   {arg} = var.{arg}", "│ ", f"│ An argument named \"{arg}\" is not expected here.", "╵"]
        cause = f"Terraform rejects {f} line {ln}: resource {res}.{name} has no argument named {arg}."
        keys = [arg, f]
    else:
        var = f"{v.word()}_{v.pick(['id', 'arn', 'name'])}"
        lines = ["╷", "│ Error: Reference to undeclared input variable", "│ ", f"│   on {f} line {ln}, in resource \"{res}\" \"{name}\":",
                 f"│ {ln:>3}:   {v.word()} = var.{var}", "│ ", f"│ An input variable with the name \"{var}\" has not been declared. This variable can be declared with a variable \"{var}\" {{}} block.", "╵"]
        cause = f"{f} line {ln} references var.{var}, which is not declared."
        keys = [var, f]
        arg = var
    return Case(
        step="Terraform validate", command=v.pick(["terraform validate", "terraform plan -input=false"]), lines=lines, key_ids=keys,
        causes=[cause], fixes=[f"Fix {f} line {ln} ({'remove or rename the argument per the provider docs' if kind == 'unsupported' else 'declare the variable in variables.tf'}) and run `terraform validate` locally.",
                               f"Correct {f} at line {ln} and run `terraform validate` before pushing."],
        runbook=[f"Fix {f} line {ln} and run `make tf-check` (fmt, validate, tflint with the locked provider versions)."],
        summary=f"terraform: {lines[1][9:]} {arg}", setup="terraform")


@failure("terraform_state_lock", "infrastructure", "terraform")
def tf_lock(v: Vocab, p: Project) -> Case:
    lock_id = f"{v.hex(8)}-{v.hex(4)}-{v.hex(4)}-{v.hex(4)}-{v.hex(12)}"
    lines = ["╷", "│ Error: Error acquiring the state lock", "│ ", "│ Error message: ConditionalCheckFailedException: The conditional request failed",
             "│ Lock Info:", f"│   ID:        {lock_id}", f"│   Path:      tf-state-{p.org}/{p.repo}/terraform.tfstate",
             "│   Operation: OperationTypeApply", f"│   Who:       runner@{v.pick(['fv-az', 'ip-10-0-'])}{v.int(100, 999)}",
             "│ ", "│ Terraform acquires a state lock to protect the state from being written", "│ by multiple users at the same time.", "╵"]
    return Case(
        step="Terraform apply", command="terraform apply -auto-approve tfplan", lines=lines, key_ids=["state lock", lock_id],
        causes=[f"Terraform could not acquire the state lock {lock_id}: another run (or a crashed one) holds it."],
        fixes=[f"Wait for the other apply to finish; if it crashed, run `terraform force-unlock {lock_id}` and add a concurrency group so applies do not overlap."],
        runbook=["Only the on-call may force-unlock; ask in #infra-oncall and use the `tf-apply` concurrency group for all apply jobs."],
        summary="Terraform state lock held", setup="terraform")


@failure("terraform_cloud_credentials", "auth", "terraform")
def tf_creds(v: Vocab, p: Project) -> Case:
    cloud = v.pick(["aws", "gcp", "azure"])
    if cloud == "aws":
        msg = ["│ Error: No valid credential sources found", "│ ", "│   with provider[\"registry.terraform.io/hashicorp/aws\"],",
               "│ ", "│ Please see https://registry.terraform.io/providers/hashicorp/aws", "│ for more information about providing credentials.",
               "│ ", "│ Error: failed to refresh cached credentials, no EC2 IMDS role found"]
        key, fix = "No valid credential sources found", "Configure AWS credentials in the job (aws-actions/configure-aws-credentials with the OIDC role) before terraform runs."
    elif cloud == "gcp":
        msg = ["│ Error: storage.NewClient() failed: dialing: google: could not find default credentials."]
        key, fix = "could not find default credentials", "Authenticate to GCP first (google-github-actions/auth with workload identity) so Application Default Credentials exist."
    else:
        msg = ["│ Error: building AzureRM Client: please ensure you have installed Azure CLI version 2.0.79 or newer. Error parsing json result from the Azure CLI: launching Azure CLI: exec: \"az\": executable file not found in $PATH."]
        key, fix = "building AzureRM Client", "Log in with azure/login (or set ARM_CLIENT_ID/ARM_TENANT_ID/ARM_SUBSCRIPTION_ID with OIDC) before terraform init."
    lines = ["╷"] + msg + ["╵"]
    return Case(
        step="Terraform plan", command="terraform plan -input=false -out=tfplan", lines=lines, key_ids=[key],
        causes=[f"The Terraform {cloud} provider has no credentials in the CI job ({key})."], fixes=[fix],
        runbook=[f"Use the `terraform-{cloud}-ci` OIDC role via the reusable workflow `{p.org}/infra-workflows/.github/workflows/tf.yml`; never store static keys."],
        summary=f"Terraform {cloud} credentials missing", setup="terraform")


@failure("terraform_fmt_check", "lint", "terraform")
def tf_fmt(v: Vocab, p: Project) -> Case:
    files = v.sample(["main.tf", "variables.tf", "outputs.tf", f"modules/{v.word()}/main.tf", "providers.tf"], v.int(1, 2))
    lines = files + [f"Error: Terraform exited with code 3."]
    return Case(
        step="Terraform fmt", command="terraform fmt -check -recursive", lines=lines, key_ids=[files[0]],
        causes=[f"terraform fmt -check fails because {', '.join(files)} {'is' if len(files) == 1 else 'are'} not formatted."],
        fixes=["Run `terraform fmt -recursive` locally and commit the changes."],
        runbook=["Run `terraform fmt -recursive`, commit, and install the pre-commit-terraform hooks (`pre-commit install`) so it happens on commit."],
        summary=f"terraform fmt: {files[0]} unformatted", setup="terraform")


@failure("git_checkout_auth", "auth", "git")
def git_auth(v: Vocab, p: Project) -> Case:
    host = v.pick(["github.com", "gitlab.com", f"git.{p.org}.internal"])
    other = f"{p.org}/{v.pick(['shared-config', 'proto-defs', 'build-tools', 'infra-modules'])}"
    kind = v.pick(["https", "ssh", "https-private"])
    if kind == "ssh":
        lines = [f"Cloning into '{other.split('/')[1]}'...", f"git@{host}: Permission denied (publickey).",
                 "fatal: Could not read from remote repository.", "", "Please make sure you have the correct access rights", "and the repository exists."]
        key, fix = "Permission denied (publickey)", f"Add a deploy key with read access to {other} (webfactory/ssh-agent with the key secret), or clone over HTTPS with a token."
    elif kind == "https":
        lines = [f"Cloning into '{other.split('/')[1]}'...", f"remote: Repository not found.", f"fatal: repository 'https://{host}/{other}.git/' not found"]
        key, fix = f"{other}", f"The job token cannot read {other}; check out the second repo with a token or GitHub App that has access (actions/checkout with token:)."
    else:
        lines = [f"Cloning into '{other.split('/')[1]}'...", f"fatal: could not read Username for 'https://{host}': terminal prompts disabled"]
        key, fix = "could not read Username", f"Provide credentials for {host} (token in the clone URL via a secret or git config url.insteadOf) before cloning {other}."
    lines = [f"/usr/bin/git clone --depth 1 https://{host}/{other}.git" if kind != "ssh" else f"/usr/bin/git clone git@{host}:{other}.git"] + lines
    return Case(
        step="Checkout dependencies", command=f"git clone {other}", lines=lines, key_ids=[key, other] if key != other else [other],
        causes=[f"Cloning {other} fails: the job has no credentials that can read it ({key})."], fixes=[fix],
        runbook=["Cross-repo checkouts use the `ci-reader` GitHub App token from actions/create-github-app-token; personal PATs are not allowed."],
        summary=f"git clone of {other} denied", setup="none")


@failure("git_ref_not_found", "configuration", "git")
def git_ref(v: Vocab, p: Project) -> Case:
    ref = v.pick([f"release/{v.version(2)}", f"feature/{v.word()}-{v.verb()}", f"v{v.version(3)}", "develop"])
    if v.chance(0.5):
        lines = [f"/usr/bin/git -c protocol.version=2 fetch --no-tags --prune --no-recurse-submodules --depth=1 origin +refs/heads/{ref}*:refs/remotes/origin/{ref}*",
                 "The process '/usr/bin/git' failed with exit code 1", "Waiting 14 seconds before trying again",
                 f"Error: A branch or tag with the name '{ref}' could not be found"]
    else:
        lines = [f"fatal: couldn't find remote ref {ref}", f"fatal: pathspec '{ref}' did not match any file(s) known to git"][: v.int(1, 2)]
    return Case(
        step="Checkout", command=f"git checkout {ref}", lines=lines, key_ids=[ref],
        causes=[f"The workflow checks out {ref}, which does not exist in the repository (deleted or misspelled)."],
        fixes=[f"Fix the ref input (branch/tag {ref}) or create/push it before the job runs; use fetch-depth: 0 if the ref is older than the shallow clone."],
        runbook=[f"Recreate the ref with `make tag` (release jobs read it from the release PR label) instead of typing {ref} by hand."],
        summary=f"Git ref {ref} not found", setup="none")


@failure("git_submodule_failure", "auth", "git")
def git_submodule(v: Vocab, p: Project) -> Case:
    sub = v.pick(["vendor/protos", "third_party/common", "libs/shared-ui", "deps/schemas"])
    host = "github.com"
    lines = [f"Submodule '{sub}' (git@{host}:{p.org}/{sub.split('/')[1]}.git) registered for path '{sub}'",
             f"Cloning into '{p.root}/{sub}'...", "Host key verification failed.", "fatal: Could not read from remote repository.",
             f"fatal: clone of 'git@{host}:{p.org}/{sub.split('/')[1]}.git' into submodule path '{p.root}/{sub}' failed",
             f"Failed to clone '{sub}'. Retry scheduled"]
    return Case(
        step="Checkout", command="git submodule update --init --recursive", lines=lines, key_ids=[sub],
        causes=[f"The submodule {sub} uses an SSH URL, and the runner has no SSH key (Host key verification failed)."],
        fixes=[f"Switch {sub} in .gitmodules to an https URL and check out with `submodules: recursive` plus a token that can read it."],
        runbook=[f"Change the URL of {sub} in .gitmodules to a relative one (../{sub.split('/')[1]}.git) so the CI token applies."],
        summary=f"Submodule {sub} clone failed", setup="none")


@failure("runner_oom_killed", "resources", "runner")
def runner_oom(v: Vocab, p: Project) -> Case:
    proc = v.pick(["java", "node", "python", "cc1plus", "rustc", "dotnet"])
    pid = v.int(1000, 60000)
    variant = v.pick(["killed", "137", "java", "gradle"])
    if variant == "java":
        proc = "java"
        lines = [f"[ERROR] {v.camel()}Test  Time elapsed: {v.secs()} s  <<< ERROR!", "java.lang.OutOfMemoryError: Java heap space",
                 f"\tat java.base/java.util.Arrays.copyOf(Arrays.java:{v.int(3000, 3600)})", "[ERROR] Crashed tests:",
                 "[ERROR] ExecutionException The forked VM terminated without properly saying goodbye. VM crash or System.exit called?"]
        key, code = "OutOfMemoryError", 1
    elif variant == "gradle":
        proc = "Gradle daemon"
        lines = [f"> Task :{v.pick(['compileKotlin', 'compileJava', 'test', 'lintDebug'])}", "",
                 "Gradle build daemon disappeared unexpectedly (it may have been killed or may have crashed)",
                 "", "FAILURE: Build failed with an exception.", "* What went wrong:", "Gradle build daemon disappeared unexpectedly (it may have been killed or may have crashed)"]
        key, code = "daemon disappeared unexpectedly", 1
    elif variant == "killed":
        lines = [f"./scripts/build.sh: line {v.int(5, 40)}: {pid} Killed                  {proc} {v.pick(['-Xmx8g', 'build.js', 'train.py', ''])}",
                 f"[{v.int(10000, 99999)}.{v.int(100000, 999999)}] Out of memory: Killed process {pid} ({proc}) total-vm:{v.int(4, 16)}000000kB, anon-rss:{v.int(3, 15)}000000kB"]
        key, code = "Killed", 137
    else:
        proc = v.pick(["cc1plus", "node", "webpack"])
        lines = [f"{proc}: fatal error: Killed signal terminated program {proc}" if proc == "cc1plus" else f"{proc} exited with signal SIGKILL (out of memory?)",
                 f"make: *** [Makefile:{v.int(20, 200)}: build] Error 137"]
        key, code = "Error 137", 137
    return Case(
        step="Build", command=v.pick(["make build", "./scripts/build.sh", "mvn -B verify"]), lines=lines, key_ids=[key], exit_code=code,
        causes=[f"The job ran out of memory: the process was OOM-killed ({key}).", f"{proc} exhausted the runner's memory ({key}), so the step was killed."],
        fixes=["Reduce memory use (lower parallelism, set -Xmx/--max-old-space-size below the runner's RAM) or move the job to a larger runner.",
               f"Cap {proc}'s memory (heap flags, fewer parallel workers) below the runner's RAM, or run the job on a larger runner."],
        runbook=["Use the `linux-x64-large` (32 GB) runner label for builds over 7 GB; cap Gradle/Maven forks with -Dmaven.test.forkCount=2."],
        summary=f"OOM killed ({key})", setup="none")


@failure("runner_disk_full", "resources", "runner")
def disk_full(v: Vocab, p: Project) -> Case:
    where = v.pick(["/var/lib/docker", "/home/runner/work", "/tmp", "/home/runner/.gradle/caches"])
    lines = v.pick([
        [f"failed to register layer: write {where}/overlay2/{v.hex(24)}/diff/usr/lib/x86_64-linux-gnu/libLLVM-15.so.1: no space left on device"],
        [f"OSError: [Errno 28] No space left on device: '{where}/{v.word()}.tmp'"],
        [f"System.IO.IOException: No space left on device : '{where}/_temp/{v.hex(8)}'", "You are running out of disk space. The runner will stop working when the machine runs out of disk space. Free space left: 12 MB"],
        [f"npm ERR! code ENOSPC", f"npm ERR! syscall write", "npm ERR! errno -28", "npm ERR! nospc ENOSPC: no space left on device, write"],
    ])
    key = "ENOSPC" if "ENOSPC" in lines[0] else "No space left on device" if "No space" in "".join(lines) else "no space left on device"
    return Case(
        step="Build", command=v.pick(["docker build .", "make build", "npm ci"]), lines=lines, key_ids=[key],
        causes=[f"The runner's disk is full ({key}) while writing to {where}." if where in "".join(lines) else f"The runner ran out of disk space ({key})."],
        fixes=["Free disk space before the build (docker system prune -af, remove unused toolchains in /usr/share/dotnet, /opt/ghc) or use a runner with a larger disk."],
        runbook=["Add the `./.github/actions/free-disk` step first; it removes preinstalled SDKs and frees about 25 GB."],
        summary="Runner disk full", setup="none")


@failure("job_timeout", "timeout", "runner")
def job_timeout(v: Vocab, p: Project) -> Case:
    mins = v.pick([30, 45, 60, 90, 120, 360])
    step = v.pick(["Integration tests", "E2E tests", "Build", "Test"])
    if p.system == "gitlab":
        lines = [f"ERROR: Job failed: execution took longer than {mins // 60}h{mins % 60}m0s seconds" if mins >= 60 else f"ERROR: Job failed: execution took longer than {mins}m0s seconds"]
        key = "execution took longer than"
    elif p.system == "github":
        lines = [f"##[error]The job running on runner GitHub Actions {v.int(2, 99)} has exceeded the maximum execution time of {mins} minutes.",
                 "##[error]The operation was canceled."]
        key = f"maximum execution time of {mins} minutes"
    else:
        lines = [f"Build timed out (after {mins} minutes). Marking the build as failed.", "Build was aborted"] if p.system == "jenkins" else \
                [f"Too long with no output (exceeded {mins}m0s): context deadline exceeded"]
        key = "timed out" if p.system == "jenkins" else "Too long with no output"
    lines = [f"Waiting for {v.pick(['database', 'selenium hub', 'localhost:8080', 'kafka'])} to be ready..."] * v.int(2, 4) + lines
    return Case(
        step=step, command=v.pick(["npm run test:e2e", "make integration", "./gradlew integrationTest", "pytest tests/integration"]),
        lines=lines, key_ids=[key], exit_code=143,
        causes=[f"The job hit the CI time limit ({key}) while waiting for a service.", f"{step} hung waiting for a service until the CI limit ({key})."],
        fixes=["Fix the service that never becomes ready, add a readiness timeout to the wait loop, and set timeout-minutes on the step.",
               "Make the wait fail fast (bounded retries with health checks) and find why the service does not start."],
        runbook=["Service containers need health checks in the workflow; use `scripts/wait-for.sh --timeout 120` rather than open-ended loops."],
        summary=f"Job timeout in {step}", setup="none")


@failure("network_dns_failure", "infrastructure", "runner")
def network(v: Vocab, p: Project) -> Case:
    host = v.pick(["registry.npmjs.org", "pypi.org", "repo.maven.apache.org", "proxy.golang.org", "github.com", "dl-cdn.alpinelinux.org", f"nexus.{p.org}.internal"])
    lines = v.pick([
        [f"curl: (6) Could not resolve host: {host}"],
        [f"npm ERR! code EAI_AGAIN", f"npm ERR! errno EAI_AGAIN", f"npm ERR! request to https://{host}/ failed, reason: getaddrinfo EAI_AGAIN {host}"],
        [f"WARNING: Retrying (Retry(total=0, connect=None, read=None, redirect=None, status=None)) after connection broken by 'NewConnectionError(': Failed to establish a new connection: [Errno -3] Temporary failure in name resolution')': /simple/{v.py_package()}/",
         f"ERROR: Could not find a version that satisfies the requirement {v.py_package()} (from versions: none)", f"(host: {host})"],
        [f"dial tcp: lookup {host} on 127.0.0.53:53: server misbehaving"],
        [f"Could not transfer artifact from/to central (https://{host}/maven2): Connect to {host}:443 [{host}/151.101.{v.int(1, 250)}.{v.int(1, 250)}] failed: Connection timed out"],
    ])
    return Case(
        step="Install dependencies", command=v.pick(["npm ci", "pip install -r requirements.txt", "mvn -B verify", "go mod download", "curl -fsSL https://" + host]),
        lines=lines, key_ids=[host],
        causes=[f"The runner could not reach {host} (DNS/network failure), so downloading dependencies failed.",
                f"A network error resolving or connecting to {host} broke the install step."],
        fixes=[f"Retry the job; if it persists, check the runner's DNS/proxy/egress rules for {host} or use a registry mirror/cache."],
        runbook=[f"Self-hosted runners must reach {host} through the egress proxy (HTTPS_PROXY=http://proxy.{p.org}.internal:3128); check the runner's proxy env."],
        summary=f"Cannot reach {host}", setup="none")


@failure("registry_rate_limit", "infrastructure", "docker")
def rate_limit(v: Vocab, p: Project) -> Case:
    image = v.pick(["python:3.11-slim", "node:20", "postgres:16", "redis:7-alpine", "golang:1.22"])
    lines = [f"Unable to find image '{image}' locally" if v.chance(0.5) else f"#3 [internal] load metadata for docker.io/library/{image}",
             f"Error response from daemon: toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit"]
    return Case(
        step="Start services", command=f"docker pull {image}", lines=lines, key_ids=["toomanyrequests"],
        causes=[f"Docker Hub's anonymous pull rate limit (toomanyrequests) blocked pulling {image}."],
        fixes=["Log in to Docker Hub with a service account before pulling, or pull through a registry mirror/cache."],
        runbook=[f"Pull base images through the mirror `mirror.{p.org}.internal/dockerhub/library/...`; docker login with DOCKERHUB_RO_TOKEN as fallback."],
        summary="Docker Hub pull rate limit", setup="none")


@failure("runner_lost", "infrastructure", "runner")
def runner_lost(v: Vocab, p: Project) -> Case:
    name = v.pick([f"ci-runner-{v.int(1, 40)}", f"gke-runner-pool-{v.hex(8)}", f"i-0{v.hex(16)}"])
    if p.system == "github":
        lines = v.pick([["The runner has received a shutdown signal. This can happen when the runner service is stopped, or a manually started runner is canceled."],
                        [f"The self-hosted runner: {name} lost communication with the server. Verify the machine is running and has a healthy network connection."]])
    elif p.system == "gitlab":
        lines = ["ERROR: Job failed (system failure): pod \"runner-" + v.alnum(8).lower() + "\" status is \"Failed\"", "ERROR: Job failed: pod status Evicted"]
    elif p.system == "jenkins":
        lines = [f"Agent {name} was marked offline: Connection was broken", "java.nio.channels.ClosedChannelException",
                 f"ERROR: Issue with creating launcher for agent {name}. The agent is being disconnected"]
    else:
        lines = [f"Received 'killed' signal", "Build was stopped: the build VM was terminated (possibly a spot instance preemption)"]
    key = next(k for k in ("shutdown signal", "lost communication", "system failure", "marked offline", "killed") if k in " ".join(lines))
    return Case(
        step="Test", command="make test", lines=lines, key_ids=[key],
        causes=[f"The job did not fail on its own: the runner went away mid-job ({key}), e.g. preemption, eviction or a runner restart."],
        fixes=["Rerun the job; if it repeats, check the runner host/autoscaler (spot preemption, node pressure evictions) and its resource limits."],
        runbook=["Rerun the job; for release jobs use the `on-demand` runner label (spot runners get preempted) and report repeats in #ci-infra."],
        summary=f"Runner lost ({key})", setup="none")
