"""Identifier pools: the names, packages, versions, paths and test names a generated log is made of.

Everything goes through one `Vocab`, which wraps a seeded `random.Random`, so a generated instance
is fully determined by its seed.
"""
from __future__ import annotations

import random
import string

REPOS = [
    "api-gateway", "billing-service", "checkout-web", "payments-core", "inventory", "auth-service",
    "search-indexer", "notification-hub", "mobile-backend", "data-pipeline", "ledger", "orders-api",
    "reporting", "catalog", "user-profile", "shipping-rates", "feature-flags", "metrics-agent",
    "webhooks", "admin-console", "pricing-engine", "recommendations", "media-upload", "chat-server",
    "geo-lookup", "audit-log", "etl-jobs", "storefront", "identity", "scheduler",
]
ORGS = ["acme", "globex", "initech", "umbrella", "hooli", "stark-labs", "wayne-ent", "tyrell", "cyberdyne"]
TEAMS = ["platform", "payments", "checkout", "infra", "data", "mobile", "growth", "core", "sre", "web"]
WORDS = [
    "order", "invoice", "user", "cart", "payment", "token", "session", "report", "account", "price",
    "shipment", "refund", "coupon", "ledger", "webhook", "profile", "search", "upload", "export",
    "tenant", "quota", "schedule", "metric", "audit", "currency", "discount", "address", "catalog",
]
VERBS = [
    "create", "update", "delete", "parse", "validate", "render", "compute", "fetch", "apply",
    "serialize", "merge", "retry", "expire", "refresh", "cancel", "resolve", "format", "sync",
]
NPM_PACKAGES = [
    "react", "react-dom", "webpack", "typescript", "eslint", "jest", "lodash", "axios", "express",
    "@babel/core", "@types/node", "vite", "next", "@testing-library/react", "prettier", "rollup",
    "ts-jest", "mocha", "chai", "dayjs", "zod", "redux", "@reduxjs/toolkit", "styled-components",
    "eslint-plugin-react", "@typescript-eslint/parser", "sass", "postcss", "tailwindcss", "graphql",
]
PY_PACKAGES = [
    "requests", "numpy", "pandas", "django", "flask", "fastapi", "pydantic", "sqlalchemy", "celery",
    "boto3", "psycopg2", "cryptography", "pyyaml", "httpx", "uvicorn", "redis", "scipy", "pillow",
    "lxml", "grpcio", "protobuf", "marshmallow", "alembic", "jinja2", "click", "attrs", "orjson",
]
MAVEN_ARTIFACTS = [
    ("org.springframework.boot", "spring-boot-starter-web"), ("com.fasterxml.jackson.core", "jackson-databind"),
    ("org.apache.commons", "commons-lang3"), ("com.google.guava", "guava"), ("org.slf4j", "slf4j-api"),
    ("io.micrometer", "micrometer-core"), ("org.hibernate.orm", "hibernate-core"), ("junit", "junit"),
    ("org.junit.jupiter", "junit-jupiter"), ("org.mockito", "mockito-core"), ("io.netty", "netty-handler"),
    ("org.apache.kafka", "kafka-clients"), ("org.postgresql", "postgresql"), ("com.squareup.okhttp3", "okhttp"),
    ("org.projectlombok", "lombok"), ("io.grpc", "grpc-stub"), ("org.yaml", "snakeyaml"),
]
GO_MODULES = [
    "github.com/stretchr/testify", "github.com/spf13/cobra", "github.com/gin-gonic/gin",
    "go.uber.org/zap", "github.com/prometheus/client_golang", "google.golang.org/grpc",
    "github.com/jackc/pgx/v5", "github.com/redis/go-redis/v9", "golang.org/x/sync",
    "github.com/aws/aws-sdk-go-v2", "gopkg.in/yaml.v3", "github.com/google/uuid",
]
CRATES = [
    "serde", "tokio", "anyhow", "thiserror", "clap", "reqwest", "tracing", "rand", "regex", "hyper",
    "chrono", "sqlx", "axum", "futures", "bytes", "once_cell", "itertools", "serde_json",
]
NUGET = [
    "Newtonsoft.Json", "Serilog", "Dapper", "AutoMapper", "Polly", "MediatR", "FluentValidation",
    "Microsoft.EntityFrameworkCore", "xunit", "Moq", "Swashbuckle.AspNetCore", "StackExchange.Redis",
]
GEMS = ["rails", "rspec-rails", "sidekiq", "devise", "pg", "puma", "nokogiri", "rubocop", "faraday", "pundit"]
TF_RESOURCES = [
    "aws_s3_bucket", "aws_iam_role", "aws_instance", "aws_security_group", "google_storage_bucket",
    "azurerm_resource_group", "aws_lambda_function", "aws_db_instance", "kubernetes_namespace",
]
ENV_VARS = [
    "DATABASE_URL", "REDIS_URL", "API_BASE_URL", "SENTRY_DSN", "AWS_REGION", "STRIPE_API_KEY",
    "KAFKA_BROKERS", "APP_ENV", "JWT_AUDIENCE", "S3_BUCKET", "SMTP_HOST", "FEATURE_FLAGS_URL",
]
RUNNERS = ["ubuntu-latest", "ubuntu-22.04", "ubuntu-24.04", "self-hosted", "linux-x64-large"]


class Vocab:
    """Seeded source of realistic identifiers. One instance per generated example."""

    def __init__(self, seed: str | int):
        self.rng = random.Random(seed)

    # -- generic picks -------------------------------------------------------------------
    def pick(self, seq):
        return self.rng.choice(list(seq))

    def sample(self, seq, k: int):
        seq = list(seq)
        return self.rng.sample(seq, min(k, len(seq)))

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def int(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)

    def hex(self, n: int) -> str:
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(n))

    def alnum(self, n: int) -> str:
        return "".join(self.rng.choice(string.ascii_letters + string.digits) for _ in range(n))

    # -- project vocabulary --------------------------------------------------------------
    def repo(self) -> str:
        return self.pick(REPOS)

    def org(self) -> str:
        return self.pick(ORGS)

    def team(self) -> str:
        return self.pick(TEAMS)

    def word(self) -> str:
        return self.pick(WORDS)

    def verb(self) -> str:
        return self.pick(VERBS)

    def camel(self) -> str:
        return self.word().capitalize() + self.pick(["Service", "Handler", "Repository", "Client", "Mapper",
                                                     "Controller", "Validator", "Parser", "Builder", "Store"])

    def snake(self) -> str:
        return f"{self.verb()}_{self.word()}"

    def version(self, major_max: int = 9) -> str:
        return f"{self.int(0, major_max)}.{self.int(0, 30)}.{self.int(0, 20)}"

    def semver_range(self) -> str:
        return self.pick(["^", "~", ">=", ""]) + self.version()

    def line(self) -> int:
        return self.int(7, 480)

    def col(self) -> int:
        return self.int(1, 48)

    def ms(self) -> int:
        return self.int(2, 950)

    def secs(self) -> str:
        return f"{self.rng.uniform(0.01, 40):.2f}"

    # -- ecosystem-specific --------------------------------------------------------------
    def npm_package(self) -> str:
        return self.pick(NPM_PACKAGES)

    def py_package(self) -> str:
        return self.pick(PY_PACKAGES)

    def maven(self) -> tuple[str, str]:
        return self.pick(MAVEN_ARTIFACTS)

    def go_module(self) -> str:
        return self.pick(GO_MODULES)

    def crate(self) -> str:
        return self.pick(CRATES)

    def nuget(self) -> str:
        return self.pick(NUGET)

    def gem(self) -> str:
        return self.pick(GEMS)

    def env_var(self) -> str:
        return self.pick(ENV_VARS)

    def java_package(self, org: str | None = None) -> str:
        org = (org or self.org()).replace("-", "")
        return f"com.{org}.{self.word()}"

    def py_module_path(self) -> str:
        pkg = self.pick(["app", "src/app", "service", self.word() + "s"])
        return f"{pkg}/{self.word()}_{self.pick(['service', 'models', 'utils_io', 'api', 'views', 'tasks'])}.py"

    def py_test(self) -> tuple[str, str]:
        """(test file path, test function name)."""
        w = self.word()
        return f"tests/{self.pick(['', 'unit/', 'integration/'])}test_{w}.py", f"test_{self.verb()}_{w}_{self.pick(['returns_total', 'rejects_invalid', 'handles_empty', 'rounds_amount', 'is_idempotent', 'with_discount', 'when_expired'])}"

    def js_path(self, ext: str | None = None) -> str:
        ext = ext or self.pick(["ts", "tsx", "js"])
        return f"src/{self.pick(['components', 'lib', 'services', 'hooks', 'utils', 'api'])}/{self.word()}{self.pick(['', 'Form', 'List', 'Client', 'Store'])}.{ext}"

    def go_pkg_dir(self) -> str:
        return f"{self.pick(['internal', 'pkg', 'cmd'])}/{self.word()}"

    def rust_path(self) -> str:
        return self.pick(["src/lib.rs", "src/main.rs", f"src/{self.word()}.rs", f"src/{self.word()}/mod.rs"])

    def cs_path(self, project: str) -> str:
        return f"src/{project}/{self.pick(['Services', 'Controllers', 'Models', 'Handlers'])}/{self.camel()}.cs"

    def fake_token(self, kind: str | None = None) -> str:
        """A fake credential shaped like a real one, so redaction gets exercised. Never a real secret."""
        kind = kind or self.pick(["github", "npm", "aws", "slack"])
        if kind == "github":
            return "ghp_" + self.alnum(36)
        if kind == "npm":
            return "npm_" + self.alnum(36)
        if kind == "aws":
            return "AKIA" + "".join(self.rng.choice(string.ascii_uppercase + string.digits) for _ in range(16))
        return "xoxb-" + "-".join(str(self.int(10**10, 10**11)) for _ in range(2)) + "-" + self.alnum(24)
