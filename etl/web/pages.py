"""The routes: each page reads the warehouse once through etl.web.data and renders a template."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

import jinja2
from fastapi import APIRouter, Form, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from etl.freshness import freshness
from etl.links import safe_link
from etl.warehouse import MissingTable, Warehouse, WarehouseError, connect
from etl.web import charts, data, feeds
from etl.web.auth import CSRF_COOKIE, check_csrf, csrf_cookie, csrf_token, same_origin

router = APIRouter()
CHANGES_SHOWN = 250


def path_for(request: Request, name: str, **params) -> str:
    """A route's path as the browser must ask for it. Not `request.url_for`: under Airflow this
    app is mounted, and Starlette resolves names there with Airflow's router, not ours."""
    return request.scope.get("root_path", "").rstrip("/") + request.app.url_path_for(name, **params)


def absolute_url(request: Request, name: str, **params) -> str:
    return str(request.url.replace(path=path_for(request, name, **params), query=""))


@jinja2.pass_context
def template_path_for(context, name: str, **params) -> str:
    return path_for(context["request"], name, **params)


def link_for(request: Request, url: str | None) -> str | None:
    """A URL from the site as a link, or None: the one link rule (etl.links), checked again
    when shown, so a row stored before the rule is safe too."""
    return safe_link(url, request.app.state.allowed_hosts)


@jinja2.pass_context
def template_safe_link(context, url: str | None) -> str | None:
    return link_for(context["request"], url)


templates = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).resolve().parent / "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
)
templates.env.globals.update(
    area_label=data.area_label,
    grade_label=data.grade_label,
    grade_rank=data.grade_rank,
    GRADE_STYLES=data.STYLES,
    path_for=template_path_for,
    safe_link=template_safe_link,
    looked_at=data.looked_at,
    KIND_LABELS=data.KIND_LABELS,
    FRAMEWORK_SHORT=charts.FRAMEWORK_LABELS,
    MAIN_AREAS=data.MAIN_AREAS,
)


@contextmanager
def warehouse(request: Request) -> Iterator[Warehouse]:
    """One connection per request (a DuckDB file is one process's at a time: the pipeline's
    writes wait a moment, or this page answers 503)."""
    try:
        wh = connect(request.app.state.warehouse_url(), lock_wait=10)
    except WarehouseError as exc:
        raise HTTPException(
            503, "the warehouse is not available now (busy or not answering): try again shortly"
        ) from exc
    with wh:
        try:
            if getattr(request.state, "freshness", None) is None:  # the header's line, in this connection
                request.state.freshness = freshness(wh)
            yield wh
        except MissingTable as exc:  # a warehouse nothing has migrated yet
            raise HTTPException(503, "the warehouse has no schema yet: run `ofsted migrate` (or the pipeline)") from exc


def page(request: Request, template: str, started: float, status_code: int = 200, **context) -> HTMLResponse:
    cookie, new = csrf_cookie(request)
    context.setdefault("freshness", _freshness(request).line())
    context.update(
        viewer=request.state.viewer,
        server_ms=round((time.perf_counter() - started) * 1000, 1),
        csrf=csrf_token(cookie, request.state.viewer.name),
    )
    response = templates.TemplateResponse(request, template, context, status_code=status_code)
    if new:
        response.set_cookie(
            CSRF_COOKIE,
            cookie,
            httponly=True,
            samesite="strict",
            path=request.scope.get("root_path", "").rstrip("/") + "/",
        )
    return response


def parse_date(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise HTTPException(400, f"{name} must be a date YYYY-MM-DD, not {value!r}") from None


@router.get("/councils/{urn}", response_class=HTMLResponse, name="council")
def council_page(request: Request, urn: str):
    started = time.perf_counter()
    with warehouse(request) as wh:
        story = data.council(wh, urn)
    if story is None:
        raise HTTPException(404, f"no council with URN {urn!r} in the warehouse")
    chart = charts.step_chart(
        story["history"], story["inspections"], data.AREA_LABELS, data.MAIN_AREAS, visits=story["visits"]
    )
    return page(request, "council.html", started, council=story, chart=chart)


def change_filter(since, until, region, area, direction, urn=None) -> data.ChangeFilter:
    if direction and direction not in data.DIRECTIONS:
        raise HTTPException(400, f"direction must be one of {', '.join(data.DIRECTIONS)}")
    return data.ChangeFilter(
        parse_date(since, "since"), parse_date(until, "until"), region or None, area or None, direction or None, urn
    )


@router.get("/changes", response_class=HTMLResponse, name="changes")
def changes_page(
    request: Request,
    since: str | None = None,
    until: str | None = None,
    region: str | None = None,
    area: str | None = None,
    direction: str | None = None,
):
    started = time.perf_counter()
    flt = change_filter(since, until, region, area, direction)
    with warehouse(request) as wh:
        rows = data.changes(wh, flt)
        actions = data.priority_actions(wh, flt, limit=CHANGES_SHOWN)
    # the newest first; a page of every change since 2012 would be slow to render and to read
    return page(
        request,
        "changes.html",
        started,
        changes=rows[:CHANGES_SHOWN],
        total=len(rows),
        flt=flt,
        actions=actions,
        regions=data.reference_regions(),
        areas=(*data.MAIN_AREAS, data.SEND_AREA),
        directions=data.DIRECTIONS,
    )


@router.get("/changes.atom", name="changes_feed")
def changes_feed(
    request: Request,
    since: str | None = None,
    until: str | None = None,
    region: str | None = None,
    area: str | None = None,
    direction: str | None = None,
):
    flt = change_filter(since, until, region, area, direction)
    with warehouse(request) as wh:
        rows = data.changes(wh, flt, limit=feeds.MAX_ENTRIES)
        actions = data.priority_actions(wh, flt, limit=feeds.MAX_ENTRIES)
    return atom(request, rows, "Ofsted ratings: changes" + (f" in {region}" if region else ""), actions)


@router.get("/councils/{urn}/changes.atom", name="council_feed")
def council_feed(request: Request, urn: str):
    with warehouse(request) as wh:  # one connection for the name and the changes
        name = data.council_name(wh, urn)
        if name is None:
            raise HTTPException(404, f"no council with URN {urn!r} in the warehouse")
        rows = data.changes(wh, data.ChangeFilter(urn=urn), limit=feeds.MAX_ENTRIES)
        actions = data.priority_actions(wh, data.ChangeFilter(urn=urn), limit=feeds.MAX_ENTRIES)
    return atom(request, rows, f"Ofsted ratings: {name}", actions)


def _freshness(request: Request):
    """How fresh the data is, as read by the request's connection (one opened if it had none)."""
    if getattr(request.state, "freshness", None) is None:
        with warehouse(request):
            pass
    return request.state.freshness


def atom(request: Request, rows: list[dict], title: str, actions: list[dict] = ()) -> Response:
    checked = _freshness(request).checked
    body = feeds.atom_feed(
        title,
        str(request.url),
        absolute_url(request, "changes"),
        rows,
        lambda urn: absolute_url(request, "council", urn=urn),
        lambda url: link_for(request, url),
        actions,
        checked=checked,
    )
    return Response(body, media_type="application/atom+xml; charset=utf-8")


@router.get("/", response_class=HTMLResponse, name="england")
def england_page(request: Request, area: str = "overall_effectiveness", region: str | None = None):
    from etl import england  # the England-over-time link keeps the area where that page has it

    started = time.perf_counter()
    if area not in data.MAP_AREAS:
        raise HTTPException(400, f"area must be one of {', '.join(data.MAP_AREAS)}")
    with warehouse(request) as wh:
        latest = data.latest_inspections(wh)
        recent = data.changes(wh, data.ChangeFilter(region=region or None), limit=12)
        cells, counts = data.england_cells(
            wh, latest, area, region or None, lambda urn: path_for(request, "council", urn=urn)
        )
    return page(
        request,
        "england.html",
        started,
        hexmap=charts.hex_map(cells),
        counts=counts,
        area=area,
        region=region or "",
        regions=data.reference_regions(),
        recent=recent,
        areas=data.MAP_AREAS,
        over_time_areas=england.AREAS,
    )


def council_rows(request: Request, region, grade, framework, since, area) -> tuple[list[dict], dict]:
    flt = {
        "region": region or None,
        "grade": grade or None,
        "framework": framework or None,
        "since": parse_date(since, "since"),
        "area": area if area in data.MAIN_AREAS else "overall_effectiveness",
    }
    with warehouse(request) as wh:
        rows = data.latest_inspections(wh)
    return data.filter_councils(rows, **flt), flt


@router.get("/councils", response_class=HTMLResponse, name="councils")
def councils_page(
    request: Request,
    region: str | None = None,
    grade: str | None = None,
    framework: str | None = None,
    since: str | None = None,
    area: str | None = None,
):
    started = time.perf_counter()
    rows, flt = council_rows(request, region, grade, framework, since, area)
    return page(
        request,
        "councils.html",
        started,
        rows=rows,
        flt=flt,
        regions=data.reference_regions(),
        grades=data.GRADE_FILTERS,
        frameworks=charts.FRAMEWORK_SHORT,
        areas=data.MAIN_AREAS,
    )


@router.get("/councils.csv", name="councils_csv")
def councils_csv(
    request: Request,
    region: str | None = None,
    grade: str | None = None,
    framework: str | None = None,
    since: str | None = None,
    area: str | None = None,
):
    rows, _ = council_rows(request, region, grade, framework, since, area)
    return Response(
        data.to_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="latest_inspections.csv"'},
    )


@router.get("/ofsted-ratings.xlsx", name="workbook")
def workbook(request: Request):
    """The analysts' workbook (`ofsted export`'s: Summary, History, Changes, Publications, About),
    built in memory from the sheets' datasets alone."""
    from etl import export

    with warehouse(request) as wh:
        body = export.workbook(
            export.read_datasets(wh, export.SHEETS.values()),
            wh.engine,
            allowed_hosts=request.app.state.allowed_hosts,
            freshness=freshness(wh).line(),
        )
    return Response(
        body,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{export.WORKBOOK}"'},
    )


@router.get("/reviews", response_class=HTMLResponse, name="reviews")
def reviews_page(request: Request):
    started = time.perf_counter()
    from etl import review
    from etl.load import refused_links

    with warehouse(request) as wh:
        items = review.list_reviews(wh)
        refused = refused_links(wh)
    return page(request, "reviews.html", started, items=items, grades=data.REVIEW_GRADES, refused=refused)


def editor(request: Request, csrf: str | None):
    """Review actions: only a user allowed to edit, only from this site's own pages, and only
    with the form's token (tied to the viewer)."""
    if not request.state.viewer.can_edit:
        raise HTTPException(403, "your account may look but not edit: ask for edit rights on ofsted_ingest")
    same_origin(request)
    check_csrf(request, csrf, request.state.viewer.name)
    return request.state.viewer


def require_reviewable(wh: Warehouse, report_id: str) -> None:
    """Only a report in the review queue, or one already resolved, may be decided (see etl.review)."""
    from etl import review

    if not review.reviewable(review.get_review(wh, report_id)):
        raise HTTPException(404, "no such report in the review queue")


@router.post("/reviews/{report_id}/accept", name="review_accept")
def review_accept(request: Request, report_id: str, why: str = Form(""), csrf: str = Form("")):
    who = editor(request, csrf)
    from etl import review

    with warehouse(request) as wh:
        require_reviewable(wh, report_id)
        review.accept(wh, report_id, who=who.name, why=why)
    return RedirectResponse(path_for(request, "reviews"), status_code=303)


@router.post("/reviews/{report_id}/grades", name="review_grades")
async def review_grades(request: Request, report_id: str):
    form = await request.form()
    who = editor(request, str(form.get("csrf", "")))
    given = {k[len("grade_") :]: v for k, v in form.items() if k.startswith("grade_") and v}
    return await run_in_threadpool(set_grades, request, report_id, given, str(form.get("why", "")), who.name)


def set_grades(request: Request, report_id: str, given: dict, why: str, who: str):
    from etl import review

    with warehouse(request) as wh:
        require_reviewable(wh, report_id)
        try:
            review.set_grades(wh, report_id, given, who=who, why=why)
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from None
    return RedirectResponse(path_for(request, "reviews"), status_code=303)


def england_choice(wh: Warehouse, area: str, region: str | None) -> str:
    """The England-over-time choosers, checked: the group (England or a region) shown."""
    from etl import england

    if area not in england.AREAS:
        raise HTTPException(400, f"area must be one of {', '.join(england.AREAS)}")
    if region and region not in england.regions(wh):
        raise HTTPException(400, f"no region {region!r}")
    return region or england.ENGLAND


@router.get("/england/over-time", response_class=HTMLResponse, name="england_over_time")
def england_over_time(
    request: Request,
    area: str = "overall_effectiveness",
    region: str | None = None,
    as_at: str | None = None,
    published_by: str | None = None,
):
    """Grade shares by month since 2012, the counts as at a date, every council's row then (its
    latest inspection and grades: etl.outcomes), and the movement since each council's first
    ILACS inspection (etl.england; docs/warehouse.md, "England at any date"). `published_by`:
    only the reports published by then count (Ofsted's cut-off), in all but the chart."""
    from etl import england, outcomes

    started = time.perf_counter()
    day = parse_date(as_at, "as_at") or date.today()
    cut_off = parse_date(published_by, "published_by")
    try:
        outcomes.check_as_at(day, cut_off)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    with warehouse(request) as wh:
        group = england_choice(wh, area, region)
        series = england.distribution(wh, area, group)
        counts = england.as_at_groups(wh, day, area, cut_off)
        moves = [m for m in england.moves(wh, day, cut_off) if not region or m.region == region]
        councils = outcomes.councils_at(wh, day, cut_off, region)
    columns = england.DISTRIBUTION_COLUMNS
    # the headline areas, and any other a council was graded in then (not only retired: not_judged)
    shown = [
        a
        for a in outcomes.GRADE_COLUMNS
        if a in data.MAIN_AREAS or any(c[a] not in (None, england.NOT_JUDGED) for c in councils)
    ]
    return page(
        request,
        "england_time.html",
        started,
        area=area,
        region=region or "",
        day=day,
        published_by=cut_off,
        regions=[r[0] for r in counts[1:]],
        areas=england.AREAS,
        chart=charts.share_chart(series, mark=day),
        march=[r for r in series if r["as_at"].month == 3 and (r["councils"] or r["not_judged"])],
        counts=[dict(zip(columns, r)) for r in counts],
        moves=moves,
        movements=england.MOVEMENT_COLUMNS[1:],
        bands=charts.SHARE_BANDS,
        councils=councils,
        council_areas=shown,
    )


@router.get("/england/over-time.csv", name="england_over_time_csv")
def england_over_time_csv(request: Request, area: str = "overall_effectiveness", region: str | None = None):
    """Every month end's counts for one area and group (grade_distribution's rows), as CSV."""
    from etl import england
    from etl.export import Dataset, to_csv

    with warehouse(request) as wh:
        rows = england.distribution(wh, area, england_choice(wh, area, region))
    body = to_csv(Dataset("grade_distribution", list(england.DISTRIBUTION_COLUMNS), [tuple(r.values()) for r in rows]))
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="grade_distribution.csv"'},
    )


SEARCH_PER_PAGE = 20
COUNCILS_FOUND = 8


@router.get("/search", response_class=HTMLResponse, name="search")
def search_page(
    request: Request,
    q: str = "",
    kind: str = "",
    region: str = "",
    council: str = "",
    since: str = "",
    until: str = "",
    page_no: str = Query("1", alias="page"),
):
    """Councils by name first (etl.councils), then the pages of reports and letters that say
    the words (etl.search), newest first, with counts by year, kind and region. A query or
    filter that cannot be searched is said on the page (400), never a traceback."""
    from etl import search
    from etl.councils import CouncilDirectory, CouncilNotFound

    started = time.perf_counter()
    text, problem, result, urn = q.strip(), None, None, None
    number = int(page_no) if page_no.isdigit() and 0 < int(page_no) <= search.MAX_LIMIT // SEARCH_PER_PAGE else 1
    try:
        days = parse_date(since, "since"), parse_date(until, "until")
    except HTTPException as exc:
        days, problem = (None, None), exc.detail
    with warehouse(request) as wh:
        directory = CouncilDirectory.from_reference(wh)
        listed = {urn for (urn,) in wh.fetchall("SELECT urn FROM councils")}
        councils = directory.search(text, limit=COUNCILS_FOUND) if text and not council.strip() else []
        if council.strip() and not problem:
            try:
                urn = directory.resolve(council).council.urn
            except CouncilNotFound as exc:
                problem = f"council: {exc}"
        if text and not problem:
            try:
                result = search.search(
                    wh,
                    text,
                    kind=kind or None,
                    urn=urn,
                    region=region or None,
                    since=days[0],
                    until=days[1],
                    limit=SEARCH_PER_PAGE,
                    offset=(number - 1) * SEARCH_PER_PAGE,
                    allowed_hosts=request.app.state.allowed_hosts,
                )
            except search.QueryError as exc:
                problem = str(exc)
    shown = result.hits if result else []
    params = {
        k: v
        for k, v in (
            ("q", text),
            ("kind", kind),
            ("region", region),
            ("council", council),
            ("since", since),
            ("until", until),
        )
        if v
    }
    more = bool(result) and result.total > number * SEARCH_PER_PAGE
    return page(
        request,
        "search.html",
        started,
        status_code=400 if problem else 200,
        q=text,
        kind=kind,
        region=region,
        council=council,
        since=since,
        until=until,
        problem=problem,
        councils=councils,
        listed=listed,
        result=result,
        hits=shown,
        first=(number - 1) * SEARCH_PER_PAGE + 1,
        previous=urlencode({**params, "page": number - 1}) if number > 1 else None,
        next=urlencode({**params, "page": number + 1})
        if more and number < search.MAX_LIMIT // SEARCH_PER_PAGE
        else None,
        capped=more and number >= search.MAX_LIMIT // SEARCH_PER_PAGE,
        years=charts.year_bars(result.counts.get("year", {})) if result else None,
        regions=data.reference_regions(),
        kinds=data.PUBLICATION_KINDS,
    )
