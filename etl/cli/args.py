"""What every command group shares: the parser that names the options that apply when it is
given one that does not, and the argument types (URN, date, council)."""

from __future__ import annotations

import argparse
import sys

from etl import records


class Parser(argparse.ArgumentParser):
    """An ArgumentParser (and, through add_subparsers, every subcommand's) that refuses an
    option or argument it does not take by naming the ones it does (exit 2)."""

    def parse_known_args(self, args=None, namespace=None):
        namespace, extras = super().parse_known_args(args, namespace)
        if extras:
            given = extras[0].split("=", 1)[0]
            what = f"{given} does not apply here" if given.startswith("-") else f"unexpected argument {given!r}"
            self.error(f"{what}; `{self.prog}` takes {self.takes()}")
        return namespace, extras

    def takes(self) -> str:
        return ", ".join(_name(a) for a in self._actions if not isinstance(a, argparse._HelpAction)) or "no options"


def _name(action: argparse.Action) -> str:
    if action.option_strings:
        return max(action.option_strings, key=len)
    if isinstance(action, argparse._SubParsersAction):
        return "{" + ",".join(action.choices) + "}"
    name = action.metavar or action.dest.upper()
    return f"[{name}]" if action.nargs in ("?", "*") else name


def say(command: str, message: str) -> None:
    """One line to stderr, named after the command (text from the site shown, never obeyed)."""
    from etl.links import for_terminal

    print(for_terminal(f"ofsted {command}: {message}"), file=sys.stderr)


def _checked(parse):
    """An argparse type from a validator: its ValueError message becomes the usage error."""

    def check(value: str):
        try:
            return parse(value)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    check.__name__ = parse.__name__
    return check


URN, DATE = _checked(records.urn), _checked(records.iso_date)


class CouncilArg(str):
    """A council as typed (URN, name, its beginning, a name it was known by): `main` resolves
    every one to its URN through etl.councils before the command runs."""

    site_decides = False  # True: a URN nobody knows yet is passed on (the site is asked)


class SiteCouncilArg(CouncilArg):
    """--council of crawl and run: a name must resolve, but a URN the reference and the
    warehouse lack is still crawled (the site may list a council the reference does not yet;
    the crawl says when the site has no such council)."""

    site_decides = True


def _council_type(kind: type[CouncilArg]):
    def council(value: str) -> CouncilArg:
        text = " ".join(str(value).split())
        if not text:
            raise argparse.ArgumentTypeError("give a council: its URN (e.g. 80487) or name (e.g. Barnet)")
        return kind(text)

    return council


COUNCIL, SITE_COUNCIL = _council_type(CouncilArg), _council_type(SiteCouncilArg)


def crawl_options(p: argparse.ArgumentParser) -> None:
    """What to crawl: the options `crawl` and `run` share."""
    p.add_argument("--limit", type=int, help="at most N councils")
    p.add_argument(
        "--council",
        action="append",
        metavar="COUNCIL",
        type=SITE_COUNCIL,
        help="only this council: URN or name (repeatable)",
    )
    p.add_argument(
        "--retry-quarantined",
        action="store_true",
        help="retry quarantined files now, not when their spacing (1, 2, 4 ... days) is up",
    )
