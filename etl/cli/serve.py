"""`ofsted serve [--host H] [--port P]`: the ratings view in a browser."""

from __future__ import annotations

import os
import sys

from etl.cli.args import say


def add(sub) -> None:
    p = sub.add_parser(
        "serve",
        help="the ratings view (England map, councils, changes, reviews) in a browser",
        description="Serve the ratings view. Loopback only unless OFSTED_VIEW_TOKEN is set: "
        "then every request must carry it (Authorization: Bearer TOKEN, or open "
        "any page once with ?token=TOKEN to set a cookie).",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    p.set_defaults(handler=command)


def command(args, settings) -> int:
    from etl.web.auth import is_loopback
    from etl.web.serve import TOKEN_ENV, create_standalone_app, quiet_access_log

    token = os.environ.get(TOKEN_ENV) or None
    if not is_loopback(args.host) and token is None:
        say(
            "serve",
            f"binding {args.host} makes the view reachable from other machines; "
            f"set {TOKEN_ENV} to a long random token first (clients send it as "
            f"`Authorization: Bearer ...`, or open the page once with ?token=...)",
        )
        return 2
    import uvicorn

    from etl.redact import redact

    print(
        f"Ofsted ratings view on http://{args.host}:{args.port}/ (warehouse: {redact(settings.warehouse_url)})"
        + ("; token required" if token else ""),
        file=sys.stderr,
    )
    app = create_standalone_app(settings, token, args.host)
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level="info")
    server = uvicorn.Server(config)  # the config has set up uvicorn's loggers: filter them now
    quiet_access_log()
    server.run()
    return 0
