"""`ofsted export [--to DIR_OR_URL] [--format xlsx,csv,parquet]`."""

from __future__ import annotations

from etl.cli.args import say


def add(sub) -> None:
    p = sub.add_parser("export", help="write the summary, history and changes as xlsx, CSV and Parquet files")
    p.add_argument("--to", metavar="DIR_OR_URL", help="folder or fsspec URL (default: $OFSTED_EXPORT_URL)")
    p.add_argument("--format", metavar="FORMATS", help="comma-separated: xlsx,csv,parquet (default: all)")
    p.set_defaults(handler=command)


def command(args, settings) -> int:
    from etl.export import FORMATS, export

    formats = tuple(f.strip() for f in (args.format or ",".join(FORMATS)).split(",") if f.strip())
    try:
        result = export(settings, args.to, formats)
    except ValueError as exc:
        say("export", str(exc))
        return 2
    print(
        f"exported {len(result.files)} files to {result.location} "
        f"({result.rows['latest_inspections']} councils, {result.rows['rating_history']} history rows)"
    )
    return 0
