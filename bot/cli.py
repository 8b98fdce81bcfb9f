"""`healthbot`: the operators' command line.

    healthbot run            initialise the database (and the clinic directory when empty),
                             train if needed, supervise the servers
    healthbot train [--force]
    healthbot db init
    healthbot clinics import PATH   validate and upsert the clinic directory CSV
    healthbot validate       Rasa's data validation, strict
    healthbot guidance report | export --lang fi [--output FILE]
    healthbot eval [--url URL]   NLU and language-ID figures as one JSON object
    healthbot nurse add EMAIL [--language fi]   a console account; password from stdin
    healthbot api-token      the token of Rasa's HTTP API, for the local operator
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import sys
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

from bot.settings import (
    SUPPORTED_LANGUAGES,
    Settings,
    load_settings,
    local_secrets,
    private_var_dir,
)

#: Rasa's command line has flags, not levels, for its verbosity.
#: `healthbot run` purges old data this often (and right at start).
PURGE_INTERVAL = 24 * 3600
_RASA_VERBOSITY = {
    "DEBUG": "--debug", "INFO": "--verbose", "WARNING": "--quiet", "ERROR": "--quiet",
}


def _configure_logging(settings: Settings) -> None:
    from bot.logs import configure

    configure(settings.log_level)


def cmd_db_init(settings: Settings, _args: argparse.Namespace) -> int:
    from bot.storage.db import init_db

    revision = init_db(settings)
    logging.getLogger("healthbot").info("database ready (schema revision %s)", revision)
    return 0


def _import_directory(settings: Settings, path: Path, only_if_empty: bool = False) -> str:
    """Read the whole CSV before touching the database; returns what happened."""
    from bot.clinics.directory import read_csv
    from bot.storage.db import make_engine
    from bot.storage.directory import all_units, import_units

    rows = read_csv(path)
    engine = make_engine(settings)
    try:
        if only_if_empty and all_units(engine):
            return "directory already loaded; `healthbot clinics import` updates it"
        result = import_units(engine, rows)
    finally:
        engine.dispose()
    return (f"imported {result.total} units from {path} (inserted {result.inserted}, "
            f"updated {result.updated}, unchanged {result.unchanged})")


def cmd_clinics_import(settings: Settings, args: argparse.Namespace) -> int:
    """Exit 2 on a bad file, which changes nothing."""
    from bot.clinics.directory import DirectoryImportError
    from bot.storage.db import init_db

    init_db(settings)
    try:
        print(_import_directory(settings, Path(args.path)))
    except DirectoryImportError as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


def cmd_guidance_report(settings: Settings, _args: argparse.Namespace) -> int:
    from bot.triage.guidance import load_guidance
    from bot.triage.review import report

    print(report(load_guidance(settings.home / "data" / "guidance")))
    return 0


def cmd_guidance_export(settings: Settings, args: argparse.Namespace) -> int:
    from bot.triage.guidance import load_guidance, load_languages
    from bot.triage.review import export_markdown

    directory = settings.home / "data" / "guidance"
    document = export_markdown(load_guidance(directory), load_languages(directory)[args.lang])
    if args.output:
        Path(args.output).write_text(document, encoding="utf-8")
        print(f"wrote {args.output}")
    else:
        print(document)
    return 0


def cmd_validate(settings: Settings, _args: argparse.Namespace) -> int:
    from bot.dialogue.validation import validate_project

    problems = validate_project(settings.home)
    for problem in problems:
        print(problem, file=sys.stderr)
    print("content valid" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


def cmd_train(settings: Settings, args: argparse.Namespace) -> int:
    from bot.training import ensure_model

    print(ensure_model(settings, force=args.force))
    return 0


def cmd_run(settings: Settings, _args: argparse.Namespace) -> int:
    from bot.clinics.directory import DIRECTORY_CSV
    from bot.clinics.hours import HoursSyntaxError
    from bot.handoff.service import nurse_calendar
    from bot.metrics import MULTIPROCESS_DIR
    from bot.storage.db import init_db
    from bot.storage.endpoints import endpoint_secrets, write_endpoints
    from bot.supervisor import PeriodicJob, ProcessSpec, Supervisor
    from bot.training import ensure_model

    log = logging.getLogger("healthbot")
    try:
        nurse_calendar(settings.nurse_hours)
    except HoursSyntaxError as exc:
        log.error("NURSE_HOURS %r: %s", settings.nurse_hours, exc)
        return 2
    private_var_dir(settings)
    # the keys made once for this machine reach every child, and this process's settings
    os.environ.update(local_secrets(settings))
    settings = load_settings()
    init_db(settings)
    log.info(_import_directory(settings, settings.home / DIRECTORY_CSV, only_if_empty=True))
    model = ensure_model(settings)
    endpoints = write_endpoints(settings)
    python = sys.executable
    env = {"TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1"}
    rasa_env = {**env, **endpoint_secrets(settings),
                MULTIPROCESS_DIR: str(_fresh_metrics_dir(settings))}
    home = str(settings.home)
    supervisor = Supervisor(
        jobs=[PeriodicJob("retention purge", PURGE_INTERVAL, partial(
            _purge, settings, timedelta(days=settings.retention_days)))],
        specs=[
            # `-m bot.logs` runs them with JSON logs, personal data redacted
            ProcessSpec("action server", [
                python, "-m", "bot.logs", "channels.action_server"], env, home),
            ProcessSpec("rasa server", [
                python, "-m", "bot.logs", "channels.rasa_server",
                "--model", str(model),
                "--endpoints", str(endpoints),
                "--credentials", str(settings.home / "credentials.yml"),
                "--interface", settings.host,
                "--port", str(settings.rasa_port),
                _RASA_VERBOSITY.get(settings.log_level, "--verbose"),
                *(["--cors", *settings.cors_origins] if settings.cors_origins else []),
            ], rasa_env, home),
        ]
    )
    log.info(
        "serving on http://%s:%d (channels under /webhooks/; Rasa's HTTP API %s); "
        "actions on %s:%d", settings.host, settings.rasa_port,
        "with its token" if settings.rasa_api_enabled else "off",
        settings.action_host, settings.action_port,
    )
    return supervisor.run()


def _purge(settings: Settings, older_than: timedelta) -> dict[str, int]:
    """`healthbot purge`, and daily in `healthbot run` (the supervisor logs the counts)."""
    from bot.storage.db import make_engine
    from bot.storage.retention import purge

    engine = make_engine(settings)
    try:
        return purge(engine, older_than)
    finally:
        engine.dispose()


def _fresh_metrics_dir(settings: Settings) -> Path:
    """Where this instance's Sanic workers keep their metrics; emptied at each start,
    as prometheus_client's multiprocess mode requires."""
    import shutil

    directory = settings.var_dir / "metrics" / str(settings.rasa_port)
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    return directory


def _read_password() -> str:
    """From the terminal (asked twice), or the first line of standard input (scripts)."""
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != first:
            raise SystemExit("the passwords differ; nothing was changed")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def _account_change(settings: Settings, command: str, change: Callable[[Any], str]) -> int:
    """Run a change to nurse accounts; print what it says, or why it was refused (exit 2)."""
    from bot.handoff.accounts import AccountError
    from bot.storage.db import init_db, make_engine

    init_db(settings)
    engine = make_engine(settings)
    try:
        print(change(engine))
    except AccountError as exc:
        print(f"healthbot {command}: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    return 0


def cmd_nurse_add(settings: Settings, args: argparse.Namespace) -> int:
    from bot.handoff.accounts import add_nurse

    def change(engine: Any) -> str:
        nurse_id = add_nurse(engine, args.email, _read_password(), args.language)
        return f"nurse {args.email} added (id {nurse_id})"

    return _account_change(settings, "nurse add", change)


def cmd_nurse_language(settings: Settings, args: argparse.Namespace) -> int:
    from bot.handoff.accounts import set_language

    def change(engine: Any) -> str:
        set_language(engine, args.email, args.language)
        return f"nurse {args.email} now reads {args.language}"

    return _account_change(settings, "nurse language", change)


def cmd_purge(settings: Settings, args: argparse.Namespace) -> int:
    from bot.storage.db import init_db
    from bot.storage.retention import parse_period

    try:
        period = parse_period(args.older_than)
    except ValueError as exc:
        print(f"healthbot purge: {exc}", file=sys.stderr)
        return 2
    init_db(settings)
    print(json.dumps({"older_than": args.older_than, "deleted": _purge(settings, period)}))
    return 0


def cmd_bench(settings: Settings, args: argparse.Namespace) -> int:
    from bot.bench import Load, run

    load = Load(residents=args.residents, duration=args.duration, think=args.think)
    results = run(settings, load, args.workers, args.postgres, args.redis, args.only)
    return 0 if all(result.get("errors", 0) == 0 for result in results[:2]) else 1


def cmd_translate_install(settings: Settings, args: argparse.Namespace) -> int:
    from bot.translation.packages import PackageError, install

    failed = 0
    for file in args.files:
        try:
            info = install(Path(file), settings.argos_packages_dir)
        except PackageError as exc:
            print(f"healthbot translate install: {exc}", file=sys.stderr)
            failed += 1
            continue
        print(f"installed {info.from_code}→{info.to_code} {info.version} in {info.path}")
    return 1 if failed else 0


def cmd_translate_list(settings: Settings, _args: argparse.Namespace) -> int:
    from bot.translation.packages import installed

    packages = installed(settings.argos_packages_dir)
    if not packages:
        print(f"no translation packages in {settings.argos_packages_dir}")
    for info in packages:
        names = f"{info.from_name or info.from_code} → {info.to_name or info.to_code}"
        print(f"{info.from_code}→{info.to_code}\t{info.version}\t{names}")
    return 0


def cmd_translate_download(settings: Settings, args: argparse.Namespace) -> int:
    from bot.translation.packages import PackageError, download

    try:
        done = download(args.codes, settings.argos_packages_dir, settings.argos_package_index)
    except PackageError as exc:
        print(f"healthbot translate download: {exc}", file=sys.stderr)
        return 1
    for info in done:
        print(f"installed {info.from_code}→{info.to_code} {info.version}")
    return 0


def _api_token(settings: Settings) -> str:
    """The token `healthbot run` gives Rasa's HTTP API (made once, kept in var/secrets.env)."""
    return settings.rasa_api_token or local_secrets(settings)["RASA_API_TOKEN"]


def cmd_api_token(settings: Settings, _args: argparse.Namespace) -> int:
    print(_api_token(settings))
    return 0


def cmd_eval(settings: Settings, args: argparse.Namespace) -> int:
    from bot.evaluation import evaluate, http_parser, local_parser
    from bot.training import ensure_model, training_facts

    if args.url:
        figures = evaluate(settings.home, http_parser(args.url, _api_token(settings)))
    else:
        model = ensure_model(settings)
        figures = {"model": {"name": model.name, **training_facts(model)},
                   **evaluate(settings.home, local_parser(model))}
    print(json.dumps(figures, indent=2, ensure_ascii=False))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="healthbot", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="start every process under one supervisor").set_defaults(
        func=cmd_run
    )
    train = sub.add_parser("train", help="train the model if config, domain or data changed")
    train.add_argument("--force", action="store_true", help="train even if up to date")
    train.set_defaults(func=cmd_train)
    db = sub.add_parser("db", help="database commands").add_subparsers(dest="db", required=True)
    db.add_parser("init", help="create the tables (idempotent)").set_defaults(func=cmd_db_init)
    clinics = sub.add_parser("clinics", help="clinic directory commands").add_subparsers(
        dest="clinics", required=True
    )
    clinics_import = clinics.add_parser("import", help="validate a directory CSV and upsert it")
    clinics_import.add_argument("path", help="e.g. data/clinics/helsinki-health-services.csv")
    clinics_import.set_defaults(func=cmd_clinics_import)
    guidance = sub.add_parser("guidance", help="symptom guidance content").add_subparsers(
        dest="guidance", required=True
    )
    guidance.add_parser("report", help="table of topics, levels, questions and sources"
                        ).set_defaults(func=cmd_guidance_report)
    export = guidance.add_parser("export", help="the whole content as Markdown for review")
    export.add_argument("--lang", choices=SUPPORTED_LANGUAGES, default="fi")
    export.add_argument("--output", help="file to write (default: standard output)")
    export.set_defaults(func=cmd_guidance_export)
    sub.add_parser("validate", help="check domain, NLU, rules and stories").set_defaults(
        func=cmd_validate
    )
    nurse = sub.add_parser("nurse", help="nurse console accounts").add_subparsers(
        dest="nurse", required=True
    )
    nurse_add = nurse.add_parser("add", help="add an account; the password is read from "
                                 "standard input")
    nurse_add.add_argument("email")
    nurse_add.add_argument("--language", default="fi",
                           help="the language the nurse reads (default fi)")
    nurse_add.set_defaults(func=cmd_nurse_add)
    nurse_language = nurse.add_parser(
        "language", help="the language a nurse reads; the console translates into it")
    nurse_language.add_argument("email")
    nurse_language.add_argument("language")
    nurse_language.set_defaults(func=cmd_nurse_language)
    purge_parser = sub.add_parser(
        "purge", help="delete conversations, tickets and queues older than a period")
    purge_parser.add_argument("--older-than", required=True, metavar="PERIOD",
                              help="30d, 12h or 90m (healthbot run purges daily, "
                              "RETENTION_DAYS)")
    purge_parser.set_defaults(func=cmd_purge)
    bench = sub.add_parser("bench", help="simulated residents against this system and "
                           "against a plain `rasa run`; JSON lines with the figures")
    bench.add_argument("--residents", type=int, default=20)
    bench.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    bench.add_argument("--think", type=float, default=3.0,
                       help="seconds a resident reads and types before the next message "
                       "(0: every resident writes again at once)")
    bench.add_argument("--workers", type=int, default=2, help="Sanic workers (SANIC_WORKERS)")
    bench.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test",
                       help="a PostgreSQL URL allowed to create the benchmark's database")
    bench.add_argument("--redis", default="redis://127.0.0.1:6379/8")
    bench.add_argument("--only", choices=["healthbot", "plain"],
                       help="run one system, without the ratios")
    bench.set_defaults(func=cmd_bench)
    translate = sub.add_parser("translate", help="machine translation packages (Argos)"
                               ).add_subparsers(dest="translate", required=True)
    translate_install = translate.add_parser(
        "install", help="install .argosmodel files (works offline)")
    translate_install.add_argument("files", nargs="+", metavar="FILE.argosmodel")
    translate_install.set_defaults(func=cmd_translate_install)
    translate.add_parser("list", help="installed language pairs").set_defaults(
        func=cmd_translate_list)
    translate_download = translate.add_parser(
        "download", help="fetch both directions to and from English from Argos' package "
        "index (needs the internet; ARGOS_PACKAGE_INDEX)")
    translate_download.add_argument("codes", nargs="+", metavar="CODE")
    translate_download.set_defaults(func=cmd_translate_download)
    sub.add_parser("api-token", help="print the token of Rasa's HTTP API "
                   "(curl \"localhost:5005/model/parse?token=$(healthbot api-token)\")"
                   ).set_defaults(func=cmd_api_token)
    evaluation = sub.add_parser("eval", help="print NLU and language-ID figures as JSON")
    evaluation.add_argument("--url", help="evaluate a running server (with this machine's API "
                            "token) instead of loading the model")
    evaluation.set_defaults(func=cmd_eval)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.umask(0o077)  # what the CLI and the servers it starts write is the owner's alone
    args = build_parser().parse_args(argv)
    settings = load_settings()
    _configure_logging(settings)
    return int(args.func(settings, args) or 0)


if __name__ == "__main__":
    sys.exit(main())
