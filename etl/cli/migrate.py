"""`ofsted migrate`: create or upgrade the warehouse named by the settings."""

from __future__ import annotations


def add(sub) -> None:
    sub.add_parser("migrate", help="create or upgrade the warehouse schema").set_defaults(handler=command)


def command(args, settings) -> int:
    from etl.warehouse import connect, migrate, schema_version

    with connect(settings.warehouse_url) as wh:
        before = schema_version(wh)
        after = migrate(wh)
    print(f"warehouse {wh.engine}: schema version {before} -> {after}")
    return 0
