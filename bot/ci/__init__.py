"""CI providers: open the failing job's own log, the last passing log and the CI config.

GitHub Actions (PyGithub), GitLab CI (python-gitlab) and Jenkins (python-jenkins). Webhooks,
forwarded alerts, job links in mentions and `cibot ask --url` all come here with a `Target` and get
back `Fetched` jobs whose logs sit in capped temporary files. Only hosts configured in settings
are ever contacted.
"""
