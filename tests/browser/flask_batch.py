"""Several `flask --app wsgi ...` commands in one interpreter, in order, as an operator would type them.

Starting Python and importing the hub costs seconds per command, and the journeys' setup runs nine.
This runs each through Flask's own command line (`flask.cli.cli`, what the `flask` executable
runs), each with a fresh app and its own stdin, and prints one JSON line per command as soon as it
is done: {"name", "exit_code", "stdout", "stderr"}.

Input on stdin: [{"name": ..., "args": [...], "stdin": "..."}, ...]. An argument may name the JSON
answer of an earlier command: "{police[id]}" is the "id" that the command named "police" printed.

    python -m tests.browser.flask_batch < commands.json
"""
from __future__ import annotations

import json
import sys

from click.testing import CliRunner
from flask.cli import cli


def main() -> int:
    runner = CliRunner()
    answers: dict[str, dict] = {}
    for command in json.load(sys.stdin):
        args = [arg.format(**answers) for arg in command["args"]]
        result = runner.invoke(cli, ["--app", "wsgi", *args], input=command.get("stdin"), catch_exceptions=True)
        stderr = result.stderr
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            stderr += f"\n{type(result.exception).__name__}: {result.exception}"
        lines = result.stdout.strip().splitlines()
        if result.exit_code == 0 and lines and lines[-1].startswith("{"):
            answers[command["name"]] = json.loads(lines[-1])
        print(json.dumps({"name": command["name"], "exit_code": result.exit_code, "stdout": result.stdout,
                          "stderr": stderr}), flush=True)
        if result.exit_code != 0:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
