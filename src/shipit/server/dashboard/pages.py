"""Dashboard pages: experiments list, experiment detail (with its alerts and webhook
deliveries), power planner, portfolio.

The pages only read: the registry's records and audit log, the latest saved analysis
(its sections from ``shipit.report.sections`` through the report's own sections partial,
charts from ``shipit.report.charts``) and ``shipit.stats.power`` for the planner. Numbers
are written by ``shipit.result.format``, registered as template filters.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

import jinja2
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from shipit.errors import AuthError, NotFoundError, ShipitError
from shipit.result import format as fmt
from shipit.server.dashboard.planner import PlannerForm, plan
from shipit.server.deps import ServicesDep
from shipit.server.routes.experiments import to_public
from shipit.server.sessions import COOKIE, Sessions, login_key, viewer
from shipit.server.settings import ServerSettings

__all__ = ["LIGHTS", "mount_dashboard"]

HERE = Path(__file__).parent
LIGHTS = {
    "ship": "green",
    "ship_to_segment": "green",
    "iterate": "yellow",
    "kill": "red",
    "halt": "red",
    "roll_back": "red",
}


@cache
def _plotly_js() -> bytes:
    from plotly.offline import get_plotlyjs

    return str(get_plotlyjs()).encode()


def _analysis(services: Any, key: str) -> Any | None:
    """The latest saved analysis of ``key`` as the report model, or None."""
    try:
        saved = services.analyses.latest(key)
    except NotFoundError:
        return None
    from shipit.result.schema import from_json

    return from_json(saved.body)


def _charts(analysis: Any) -> dict[str, Markup]:
    """Each Plotly figure of the analysis as a chart box and its JSON, drawn by base.html.j2."""
    from shipit.report.charts import CONFIG, all_charts

    box = Markup(
        '<div class="chart" id="plot-{0}"></div>'
        '<script type="application/json" data-chart="plot-{0}" data-config="{2}">{1}</script>'
    )
    config = json.dumps(CONFIG)  # the report's Plotly config: responsive, a small toolbar
    return {
        name: box.format(name, Markup(fig.to_json().replace("</", "<\\/")), config)
        for name, fig in all_charts(analysis).items()
    }


def _monitoring(services: Any, key: str, spec: dict[str, Any]) -> dict[str, Any] | None:
    """The monitor's view of ``key``: its schedule, the alerts active now (rules whose
    stored state is not quiet) and the newest webhook deliveries; None when unmonitored."""
    from shipit.registry.monitoring import MonitorState

    state = MonitorState(services.registry.engine)
    alerts = [
        s
        for s in state.alert_states(key).values()
        if s.state and s.rule != "verdict" and not s.rule.startswith("_")
    ]
    deliveries = state.deliveries(key)[-10:][::-1]
    monitoring = spec.get("monitoring")
    if monitoring is None and not alerts and not deliveries:
        return None
    return {"spec": monitoring or {}, "alerts": alerts, "deliveries": deliveries}


def _report(analysis: Any) -> Any:
    """The report's sections of the analysis (shared with the HTML report)."""
    from shipit.report.sections import build_report

    return build_report(analysis)


def _local(target: str) -> str:
    """A redirect target on this site only (no scheme, host or protocol-relative path)."""
    return target if target.startswith("/") and not target.startswith(("//", "/\\")) else "/"


def _guard(request: Request) -> Response | None:
    """None when the request may see the dashboard, else a redirect to /login (no key) or
    a 403 (a key without the scope)."""
    try:
        viewer(request)
    except AuthError as exc:
        if getattr(exc, "http_status", 401) == 403:
            return Response(str(exc), status_code=403, media_type="text/plain")
        target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        return RedirectResponse(f"/login?next={target}", status_code=303)
    return None


def mount_dashboard(app: FastAPI, settings: ServerSettings) -> None:
    """Add the dashboard pages and plotly.js to ``app`` (outside the OpenAPI document)."""
    app.state.sessions = Sessions(settings.session_secret, settings.session_hours)
    # the dashboard's pages first, then the report's templates (the shared sections partial)
    loader = jinja2.ChoiceLoader(
        [
            jinja2.FileSystemLoader(HERE / "templates"),
            jinja2.PackageLoader("shipit.report", "templates"),
        ]
    )
    env = jinja2.Environment(
        loader=loader,
        autoescape=True,  # templates end in .j2: escape everything, always
        undefined=jinja2.StrictUndefined,
    )
    templates = Jinja2Templates(env=env)
    for name in ("count", "fixed", "share"):
        templates.env.filters[name] = getattr(fmt, name)
    router = APIRouter(include_in_schema=False)

    @router.get("/static/plotly.min.js")
    def plotly_js() -> Response:
        return Response(
            _plotly_js(),
            media_type="application/javascript",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    @router.get("/static/dashboard.js")
    def dashboard_js() -> Response:
        return Response(
            (HERE / "static" / "dashboard.js").read_bytes(),
            media_type="application/javascript",
            headers={"Cache-Control": "public, max-age=3600"},
        )

    @router.get("/login", response_class=HTMLResponse)
    def login_page(request: Request, next: str = "/") -> Any:
        context = {"page": "login", "next": _local(next), "error": None}
        return templates.TemplateResponse(request, "login.html.j2", context)

    @router.post("/login", response_class=HTMLResponse)
    async def login(request: Request, services: ServicesDep) -> Any:
        form = parse_qs((await request.body())[:4096].decode("utf-8", "replace"))
        token = (form.get("key") or [""])[0].strip()
        target = _local((form.get("next") or ["/"])[0])
        try:
            key = login_key(services, token)
        except AuthError as exc:
            context = {"page": "login", "next": target, "error": str(exc)}
            return templates.TemplateResponse(
                request, "login.html.j2", context, status_code=exc.http_status
            )
        sessions: Sessions = request.app.state.sessions
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            COOKIE,
            sessions.issue(key),
            max_age=sessions.max_age,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    @router.post("/logout")
    def logout() -> Response:
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    @router.get("/", response_class=HTMLResponse)
    def experiments_page(request: Request, services: ServicesDep) -> Any:
        if (refused := _guard(request)) is not None:
            return refused
        rows: list[dict[str, Any]] = []
        for record in services.registry.list_experiments():
            exp = to_public(record, services.registry)
            try:
                verdict = _analysis(services, exp.key)
            except ShipitError:
                verdict = None
            decision = verdict.verdict.decision if verdict is not None else None
            rows.append({"e": exp, "decision": decision, "light": LIGHTS.get(decision or "")})
        rows.sort(key=lambda r: (r["e"].status != "running", r["e"].key))
        return templates.TemplateResponse(
            request, "experiments.html.j2", {"rows": rows, "page": "experiments"}
        )

    @router.get("/experiments/{key}", response_class=HTMLResponse)
    def experiment_page(request: Request, key: str, services: ServicesDep) -> Any:
        if (refused := _guard(request)) is not None:
            return refused
        try:
            exp = to_public(services.registry.get(key), services.registry)
        except NotFoundError as exc:
            missing = {"message": str(exc), "page": "experiments"}
            return templates.TemplateResponse(
                request, "not_found.html.j2", missing, status_code=404
            )
        history = services.registry.audit(key)
        analysis = _analysis(services, key)
        charts = _charts(analysis) if analysis is not None else {}
        decision = analysis.verdict.decision if analysis is not None else None
        context: dict[str, Any] = {
            "e": exp,
            "spec_json": json.dumps(exp.spec, indent=2, default=str),
            "history": history,
            "report": _report(analysis) if analysis is not None else None,
            "charts": charts,
            "light": LIGHTS.get(decision or ""),
            "monitoring": _monitoring(services, key, exp.spec),
            "page": "experiment",
        }
        return templates.TemplateResponse(request, "experiment.html.j2", context)

    @router.get("/planner", response_class=HTMLResponse)
    def planner_page(request: Request) -> Any:
        if (refused := _guard(request)) is not None:
            return refused
        params = dict(request.query_params)
        form, result, error = PlannerForm(), None, None
        if params:
            try:
                form = PlannerForm.from_query(params)
                result = plan(form)
            except ShipitError as exc:
                error = str(exc)
        context = {"form": form, "result": result, "error": error, "page": "planner"}
        return templates.TemplateResponse(request, "planner.html.j2", context)

    @router.get("/portfolio", response_class=HTMLResponse)
    def portfolio_page(request: Request, services: ServicesDep) -> Any:
        if (refused := _guard(request)) is not None:
            return refused
        from shipit.operate.portfolio import portfolio

        context = {"p": portfolio(services.registry), "page": "portfolio"}
        return templates.TemplateResponse(request, "portfolio.html.j2", context)

    app.include_router(router)
