"""``python -m dashapp.field migrate | summary | export OUT.npz | purge [--days N] | delete-all --yes``.

The database is DIGIT_INSPECTOR_DATABASE_URL's (a SQLite file by default).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys

import numpy as np

from dashapp.field import engine
from dashapp.field.store import FieldStore, FieldUnavailable, Filters
from dashapp.settings import PREFIX, Settings, SettingsError


def _filters(args: argparse.Namespace) -> Filters:
    return Filters(args.model, args.since, args.until)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashapp.field", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="bring the database to the newest schema (creates a SQLite file)")
    for name, text in (("summary", "records, labels, accuracy and the confusion matrix as JSON"),
                       ("export", "the labelled records as an npz (x uint8 N x 28 x 28, y with 10 = not a digit, ids)"),
                       ("delete-all", "delete the records (of --model, between --since and --until)")):
        command = commands.add_parser(name, help=text)
        command.add_argument("--model", help="only this model's records")
        command.add_argument("--since", type=dt.date.fromisoformat, help="first UTC day, YYYY-MM-DD")
        command.add_argument("--until", type=dt.date.fromisoformat, help="last UTC day, YYYY-MM-DD")
        if name == "export":
            command.add_argument("out", help="the .npz file to write")
        if name == "delete-all":
            command.add_argument("--yes", action="store_true", help="really delete")
    purge = commands.add_parser("purge", help="delete records older than the retention period")
    purge.add_argument("--days", type=int, help=f"default: {PREFIX}FIELD_RETENTION_DAYS")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env(os.environ)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    url = settings.database_url
    store = FieldStore(url, settings.field_retention_days)
    try:
        if args.command == "migrate":
            revision = engine.migrate(url)
            print(f"field database at revision {revision} ({store.backend})")
        elif args.command == "summary":
            print(json.dumps(store.summary(_filters(args))))
        elif args.command == "export":
            data = store.export(_filters(args))
            with open(args.out, "wb") as handle:
                np.savez_compressed(handle, **data)
            print(f"{len(data['y'])} labelled records written to {args.out}")
        elif args.command == "purge":
            print(f"{store.purge(args.days)} records deleted")
        elif args.command == "delete-all":
            if not args.yes:
                parser.error("delete-all deletes field records for good: add --yes")
            print(f"{store.delete_all(_filters(args))} records deleted")
    except FieldUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # a migration against an unreachable database: one sentence, not a trace
        if args.command != "migrate":
            raise
        print(f"error: the field database could not be migrated ({type(exc).__name__}: "
              f"{str(exc).splitlines()[0] if str(exc) else 'no detail'}).", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
