"""`ofsted crawl [--limit N] [--council COUNCIL] [--retry-quarantined]`: discover and
download, then say what is new."""

from __future__ import annotations

from etl.cli.args import crawl_options, say


def add(sub) -> None:
    p = sub.add_parser("crawl", help="discover councils and publications, download new reports")
    crawl_options(p)
    p.set_defaults(handler=command)


def command(args, settings) -> int:
    from etl.crawl import SiteStructureError, crawl
    from etl.download import download_new
    from etl.http import EXIT_UNREACHABLE, FetchError, PoliteSession, SiteUnreachable
    from etl.landing import LandingStore
    from etl.pipeline import known_crawl_state

    store = LandingStore.from_settings(settings)  # the listing-page cache and the files
    session = PoliteSession.from_settings(settings)
    try:
        try:  # the pages `ofsted run` would read now (the warehouse's crawl state, left as it is)
            listing = crawl(
                settings,
                councils=getattr(args, "council", None),
                limit=getattr(args, "limit", None),
                session=session,
                pages=store,
                state=known_crawl_state(settings),
            )
            result = download_new(
                listing.publications,
                settings,
                store=store,
                session=session,
                retry_quarantined=getattr(args, "retry_quarantined", False),
            )
        except SiteUnreachable as exc:
            say("crawl", str(exc))
            return EXIT_UNREACHABLE
        except (SiteStructureError, FetchError) as exc:
            say("crawl", str(exc))
            return 2
    finally:
        session.close()
    print(report(listing, result, session.requests_made))
    return 1 if listing.errors or listing.missing else 0


def report(listing, result, requests: int) -> str:
    """What the crawl found and stored, a line per new or quarantined file and per error."""
    from etl.crawl import not_on_site

    read = len(listing.plan.reasons) - len(listing.failed) if listing.plan else len(listing.councils)
    lines = [
        f"{len(listing.councils)} councils, {read} council pages read, {len(listing.publications)} publications listed; "
        f"{len(result.stored)} new files stored, {result.skipped} already stored, "
        f"{len(result.quarantined)} quarantined, {result.deferred} quarantined and not yet due, "
        f"{len(result.reissued)} re-issued; {requests} requests"
    ]
    for s in sorted(result.stored, key=lambda s: (s.publication.local_authority, str(s.publication.published))):
        p = s.publication
        tag = "new version" if s.supersedes else "new"
        lines.append(f"  {tag}  {p.urn:>8} {p.local_authority}: {p.title} [{p.kind}] {p.url}")
    for q in result.quarantined:
        p = q.publication
        lines.append(
            f"  QUARANTINED {p.urn:>8} {p.local_authority}: {p.title} {p.url}\n"
            f"       reason: {q.reason} (attempt {q.attempts})"
        )
    lines += [f"  {not_on_site(urn)}" for urn in listing.missing]
    for error in listing.errors:
        lines.append(f"  ERROR reading council page {error}")
    lines += [f"  crawl: {n}" for n in (listing.plan.notes if listing.plan else ())]
    return "\n".join(lines)
