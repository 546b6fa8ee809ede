"""The two examples from the project's seed note, kept verbatim in the training split."""
from __future__ import annotations

DOCKER_LOG = """\
2024-05-14T10:22:31.1234567Z ##[group]Run docker build -t app:${{ github.sha }} .
2024-05-14T10:22:31.1240000Z docker build -t app:${{ github.sha }} .
2024-05-14T10:22:31.1241000Z shell: /usr/bin/bash -e {0}
2024-05-14T10:22:31.1242000Z ##[endgroup]
2024-05-14T10:22:31.9000000Z #0 building with "default" instance using docker driver
2024-05-14T10:22:31.9010000Z 
2024-05-14T10:22:31.9020000Z #1 [internal] load build definition from Dockerfile
2024-05-14T10:22:31.9030000Z #1 transferring dockerfile: 312B done
2024-05-14T10:22:31.9040000Z #1 DONE 0.0s
2024-05-14T10:22:31.9050000Z 
2024-05-14T10:22:31.9060000Z #2 [internal] load metadata for docker.io/library/python:3.11-slim
2024-05-14T10:22:32.8000000Z #2 DONE 0.9s
2024-05-14T10:22:32.8010000Z 
2024-05-14T10:22:32.8020000Z #3 [internal] load .dockerignore
2024-05-14T10:22:32.8030000Z #3 transferring context: 2B done
2024-05-14T10:22:32.8040000Z #3 DONE 0.0s
2024-05-14T10:22:32.8050000Z 
2024-05-14T10:22:32.8060000Z #4 [1/5] FROM docker.io/library/python:3.11-slim@sha256:ad48727987b259854d52241fac3bc633574364867b8e20aec305e6e7f4028b26
2024-05-14T10:22:32.8070000Z #4 DONE 0.0s
2024-05-14T10:22:32.8080000Z 
2024-05-14T10:22:32.8090000Z #5 [internal] load build context
2024-05-14T10:22:32.8100000Z #5 transferring context: 1.02kB done
2024-05-14T10:22:32.8110000Z #5 DONE 0.0s
2024-05-14T10:22:32.8120000Z 
2024-05-14T10:22:32.8130000Z #6 [2/5] WORKDIR /app
2024-05-14T10:22:32.8140000Z #6 CACHED
2024-05-14T10:22:32.8150000Z 
2024-05-14T10:22:32.8160000Z #7 [3/5] COPY requirements.txt .
2024-05-14T10:22:32.8170000Z #7 ERROR: failed to calculate checksum of ref 8d1e5a0c-3f7a-4a4e-9d55-2b8f0e0c1a11::q2w3e4r5t6y7u8i9o0p: "/requirements.txt": not found
2024-05-14T10:22:32.8180000Z ------
2024-05-14T10:22:32.8190000Z  > [3/5] COPY requirements.txt .:
2024-05-14T10:22:32.8200000Z ------
2024-05-14T10:22:32.8210000Z Dockerfile:3
2024-05-14T10:22:32.8220000Z --------------------
2024-05-14T10:22:32.8230000Z    1 |     FROM python:3.11-slim
2024-05-14T10:22:32.8240000Z    2 |     WORKDIR /app
2024-05-14T10:22:32.8250000Z    3 | >>> COPY requirements.txt .
2024-05-14T10:22:32.8260000Z    4 |     RUN pip install --no-cache-dir -r requirements.txt
2024-05-14T10:22:32.8270000Z    5 |     COPY . .
2024-05-14T10:22:32.8280000Z --------------------
2024-05-14T10:22:32.8290000Z ERROR: failed to solve: failed to compute cache key: failed to calculate checksum of ref 8d1e5a0c-3f7a-4a4e-9d55-2b8f0e0c1a11::q2w3e4r5t6y7u8i9o0p: "/requirements.txt": not found
2024-05-14T10:22:32.8400000Z ##[error]Process completed with exit code 1."""

NPM_LOG = """\
Run npm ci
npm ERR! code ENOENT
npm ERR! syscall open
npm ERR! path /home/runner/work/app/package.json
npm ERR! errno -2
npm ERR! enoent ENOENT: no such file or directory, open '/home/runner/work/app/package.json'
npm ERR! enoent This is related to npm not being able to find a file.
npm ERR! enoent 

npm ERR! A complete log of this run can be found in:
npm ERR!     /home/runner/.npm/_logs/2024-05-14T10_25_03_114Z-debug-0.log
Error: Process completed with exit code 254."""

SEED_ROWS = [
    {"input": DOCKER_LOG,
     "output": "Root Cause: The Dockerfile's COPY requirements.txt step failed because requirements.txt is not in the build context. "
               "Fix: Add requirements.txt to the repository root (or fix the path in the COPY instruction) and make sure .dockerignore does not exclude it.",
     "type": "docker_copy_missing", "category": "container", "ecosystem": "docker", "key_ids": ["requirements.txt"], "format": "text"},
    {"input": NPM_LOG,
     "output": "Root Cause: npm could not find package.json in the working directory. "
               "Fix: Run npm from the folder that contains package.json (set working-directory) or commit the missing package.json.",
     "type": "npm_missing_package_json", "category": "configuration", "ecosystem": "npm", "key_ids": ["package.json"], "format": "text"},
]
