#!/usr/bin/env python3
"""Every example in the documentation runs as written.

Runs, in order and in one scratch folder laid out like the repository's top
folder (build/capsim, scenarios/, tests/ and ../shared linked in):
- every ```sh block of README.md and docs/*.md, with bash -e;
- every ```python block of docs/*.md, with Debian's python3 (matplotlib
  without a display);
- every command under `Example:` or `Examples:` in `capsim CMD --help`.
A block preceded by an HTML comment `<!-- docs-run: skip: REASON -->` is
skipped and the reason printed (Quick start, which CI runs itself; mpirun
across hosts; Slurm), as is a --help example that is a sketch (with "...").
Fails on the first non-zero exit, and if the examples
leave in the scratch folder a file whose name the repository's .gitignore
does not ignore (examples must not litter a checkout).
"""
import argparse
import glob
import os
import re
import subprocess
import sys

SUBCOMMANDS = ["run", "sweep", "merge", "report", "validate", "size", "calibrate", "list"]
BLOCK = re.compile(r"(?:<!--(?P<mark>[^>]*)-->\s*\n)?```(?P<lang>sh|python)\n(?P<body>.*?)```", re.S)


def fail(message):
    print("docs_run: " + message, file=sys.stderr)
    sys.exit(1)


def blocks_of(path):
    text = open(path, encoding="utf-8").read()
    for m in BLOCK.finditer(text):
        line = text.count("\n", 0, m.start("body"))
        yield f"{os.path.basename(path)}:{line}", m.group("lang"), m.group("body"), (m.group("mark") or "")


def help_examples(capsim):
    for command in SUBCOMMANDS:
        out = subprocess.run([capsim, command, "--help"], capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            fail(f"capsim {command} --help: exit {out.returncode}")
        lines = out.stdout.splitlines()
        for i, line in enumerate(lines):
            if not re.match(r"^Examples?\b.*:$", line):
                continue
            commands, current = [], ""
            for follow in lines[i + 1:]:
                if not follow.startswith("  "):
                    break
                current += follow.strip()
                if current.endswith("\\"):
                    current = current[:-1] + " "
                    continue
                commands.append(current)
                current = ""
            for n, cmd in enumerate(commands):
                where = f"capsim {command} --help example {n + 1}"
                if not cmd.startswith("capsim ") or "..." in cmd:  # a sketch, not a command
                    yield where, "sh", cmd, "docs-run: skip: a sketch, not a command: " + cmd
                    continue
                yield where, "sh", cmd.replace("capsim ", "./build/capsim ") + "\n", ""


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--capsim", required=True)
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--work-dir", required=True)
    args = parser.parse_args()
    capsim = os.path.abspath(args.capsim)
    source = os.path.abspath(args.source_dir)
    work = os.path.abspath(args.work_dir)
    top = os.path.join(work, "top")
    subprocess.run(["rm", "-rf", work], check=True)
    os.makedirs(os.path.join(top, "build"))
    os.symlink(capsim, os.path.join(top, "build", "capsim"))
    for name in ("scenarios", "tests", "docs"):
        os.symlink(os.path.join(source, name), os.path.join(top, name))
    os.symlink(os.path.join(os.path.dirname(source), "shared"), os.path.join(work, "shared"))

    docs = [os.path.join(source, "README.md")] + sorted(glob.glob(os.path.join(source, "docs", "*.md")))
    examples = [b for path in docs for b in blocks_of(path)] + list(help_examples(capsim))
    env = dict(os.environ, MPLBACKEND="Agg")
    ran = skipped = 0
    for where, lang, body, mark in examples:
        if "docs-run: skip" in mark or "sweep-example" in mark:
            print(f"docs_run: {where}: skipped ({mark.strip()})")
            skipped += 1
            continue
        argv = ["bash", "-e", "-o", "pipefail", "-c", body] if lang == "sh" else ["/usr/bin/python3", "-c", body]
        try:
            r = subprocess.run(argv, cwd=top, env=env, capture_output=True, text=True, timeout=900)
        except subprocess.TimeoutExpired:
            fail(f"{where}: did not finish in 900 s")
        if r.returncode != 0:
            fail(f"{where}: exit {r.returncode}\n--- block\n{body}--- stderr\n{r.stderr[-3000:]}")
        ran += 1
    litter = []
    for name in sorted(os.listdir(top)):
        if os.path.islink(os.path.join(top, name)) or name == "build":
            continue
        if subprocess.run(["git", "-C", source, "check-ignore", "-q", "--no-index", name]).returncode != 0:
            litter.append(name)
    if litter:
        fail("the examples leave files that .gitignore does not ignore: " + ", ".join(litter))
    print(f"docs_run: {ran} examples ran, {skipped} skipped")


if __name__ == "__main__":
    main()
