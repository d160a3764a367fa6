"""The dashboard's Starlette app: pages over :class:`~activejob.storage.base.Storage`.

Every page reads through the storage API the CLI uses (``queues``, ``list``,
``get``, ``workers``, ``recurring_tasks``), and every action is a POST through
the same methods (``retry``, ``discard``, ``pause``/``resume``,
``pause_recurring``/``resume_recurring``, :func:`activejob.recurring.operate.run_now`).
Storage calls block, so they run in Starlette's thread pool. Links are built
from the request's ``root_path``, so the app works mounted under any prefix.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from activejob.adapters.durable import storage_of
from activejob.dashboard import listing, present
from activejob.dashboard.chart import throughput_svg
from activejob.dashboard.security import (
    CSRF_COOKIE,
    CSRF_FIELD,
    AuthCheck,
    AuthMiddleware,
    BasicAuth,
    CsrfTokens,
)
from activejob.errors import ConfigurationError
from activejob.recurring.operate import next_run, run_now, task_state
from activejob.storage.base import JobFilter, JobState, Storage, StorageError
from activejob.storage.browse import COUNT_CAP
from activejob.storage.bulk import act_on_matching, describe

__all__ = ["PAGE_SIZE", "Dashboard", "build_app"]

HERE = Path(__file__).parent
PAGE_SIZE = listing.PAGE_SIZE
"""Jobs per page of a listing."""
FORM_LIMIT = 64 * 1024
"""Bytes of a form body read; the dashboard's forms are a few fields."""
SHOWN_STATES = (JobState.READY, JobState.SCHEDULED, JobState.RUNNING, JobState.FAILED)
"""The counts the overview and queues pages show first."""


class Dashboard:
    """The pages and actions, around one storage (resolved on first use)."""

    def __init__(self, adapter: Any, csrf: CsrfTokens) -> None:
        self._adapter = adapter
        self._storage: Storage | None = None
        self._lock = threading.Lock()
        self.csrf = csrf
        self.basic_auth = ""
        """The basic-auth realm, when basic auth guards the app (empty otherwise)."""
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"),
            autoescape=True,  # every value a page shows is escaped unless marked safe
            undefined=jinja2.StrictUndefined,
        )
        self.templates.globals.update(
            time=present.show_time,
            states=list(JobState),
            shown_states=SHOWN_STATES,
            count_cap=COUNT_CAP,
        )

    @property
    def storage(self) -> Storage:
        """The storage behind the adapter given to :func:`create_app`."""
        with self._lock:  # requests run in a thread pool: build one storage, not several
            if self._storage is None:
                adapter = self._adapter
                self._storage = adapter if isinstance(adapter, Storage) else storage_of(adapter)
            return self._storage

    # -- pages -------------------------------------------------------------------------

    async def overview(self, request: Request) -> Response:
        def read() -> tuple[Any, ...]:
            store = self.storage
            return store.queues(), store.workers(), store.recurring_tasks(), store.activity()

        queues, workers, tasks, activity = await run_in_threadpool(read)
        totals = {state: sum(q.counts.get(state, 0) for q in queues) for state in JobState}
        capped = {state for q in queues for state in q.capped}
        return self.render(
            request,
            "overview.html",
            queues=queues,
            totals=totals,
            capped_totals=capped,
            workers=len(workers),
            recurring=len(tasks),
            activity=activity,
            chart=throughput_svg(activity.finished, activity.failed),
            latency=present.latency,
        )

    async def jobs(self, request: Request) -> Response:
        return await self._listing(request, page="jobs", state=None)

    async def failed(self, request: Request) -> Response:
        return await self._listing(request, page="failed", state=JobState.FAILED.value)

    async def scheduled(self, request: Request) -> Response:
        return await self._listing(request, page="scheduled", state=JobState.SCHEDULED.value)

    async def blocked(self, request: Request) -> Response:
        """Blocked jobs (flow: concurrency): the keys they wait for, then the jobs."""
        keys = await run_in_threadpool(self.storage.blocked_keys)
        return await self._listing(request, page="blocked", state=JobState.BLOCKED.value, keys=keys)

    async def _listing(
        self, request: Request, *, page: str, state: str | None, **extra: Any
    ) -> Response:
        try:
            chosen = listing.parse(request.query_params, fixed_state=state)
        except ValueError as exc:
            return self.problem(request, 400, f"bad filter: {exc}")
        found = await run_in_threadpool(self.storage.browse, chosen.query)
        return self.render(
            request,
            "jobs.html",
            page=page,
            jobs=found.jobs,
            filters={key: chosen.filters.get(key, "") for key in listing.FIELDS},
            bulk=chosen.action_fields() if chosen.can_act else None,
            paged=chosen.query.before is not None,
            first_query=chosen.link(),
            next_query=(
                None if found.next_before is None else chosen.link(before=str(found.next_before))
            ),
            window_full=found.window_full,
            scan=chosen.query.scan,
            keys=extra.get("keys"),
        )

    async def job(self, request: Request) -> Response:
        job_id = request.path_params["job_id"]
        info = await run_in_threadpool(self.storage.get, job_id)
        if info is None:
            return self.problem(request, 404, f"no job with id {job_id}")
        return self.render(
            request,
            "job.html",
            job=info,
            timeline=present.timeline(info),
            arguments=present.arguments_text(info.payload),
            payload=present.pretty_json(info.payload),
            can_retry=info.state in (JobState.FAILED, JobState.DISCARDED),
            can_discard=info.state
            in (JobState.READY, JobState.SCHEDULED, JobState.BLOCKED, JobState.FAILED),
            can_run_now=info.state is JobState.SCHEDULED,
        )

    async def queues(self, request: Request) -> Response:
        queues = await run_in_threadpool(self.storage.queues)
        return self.render(request, "queues.html", queues=queues)

    async def workers(self, request: Request) -> Response:
        workers = await run_in_threadpool(self.storage.workers)
        return self.render(request, "workers.html", workers=workers)

    async def recurring(self, request: Request) -> Response:
        tasks = await run_in_threadpool(self.storage.recurring_tasks)
        rows = [(task, task_state(task), next_run(task)) for task in tasks]
        return self.render(request, "recurring.html", rows=rows)

    async def logout(self, request: Request) -> Response:
        """With basic auth, answer 401 to the credentials the browser sent: it then
        forgets them (the basic-auth "logout"), and the next page asks again. It
        changes nothing on the server, so a GET is enough. With the host's own check,
        logging out is the host's business: this says where."""
        if not self.basic_auth:
            return self.problem(request, 404, "log out of the application that hosts this page")
        response = self.render(request, "logout.html")
        response.status_code = 401
        response.headers["WWW-Authenticate"] = f'Basic realm="{self.basic_auth}"'
        return response

    # -- actions (POST only, CSRF-checked) ---------------------------------------------

    async def retry_job(self, request: Request) -> Response:
        return await self._act_on_job(request, "retry")

    async def discard_job(self, request: Request) -> Response:
        return await self._act_on_job(request, "discard")

    async def run_job_now(self, request: Request) -> Response:
        return await self._act_on_job(request, "run_now")

    async def _act_on_job(self, request: Request, action: str) -> Response:
        form = await self._form(request)
        if form is None:
            return self.problem(request, 403, "missing or wrong CSRF token: reload the page")
        job_id = request.path_params["job_id"]
        where = JobFilter(job_ids=[job_id], limit=None)
        if action == "run_now":
            count = int(await run_in_threadpool(self.storage.run_now, job_id))
            notice = f"job {job_id} runs now" if count else f"job {job_id} was not scheduled"
            return self.redirect(request, form, f"/jobs/{job_id}", notice)
        act = self.storage.retry if action == "retry" else self.storage.discard
        count = await run_in_threadpool(act, where)
        done = "retried" if action == "retry" else "discarded"
        notice = f"{done} job {job_id}" if count else f"job {job_id} was not {done}"
        return self.redirect(request, form, f"/jobs/{job_id}", notice)

    async def retry_matching(self, request: Request) -> Response:
        return await self._act_on_matching(request, "retry")

    async def discard_matching(self, request: Request) -> Response:
        return await self._act_on_matching(request, "discard")

    async def _act_on_matching(self, request: Request, action: str) -> Response:
        """Without ``confirm``, a page saying exactly which jobs the filters match,
        to confirm; with it, act on every one of them (:mod:`activejob.storage.bulk`)."""
        form = await self._form(request)
        if form is None:
            return self.problem(request, 403, "missing or wrong CSRF token: reload the page")
        try:
            chosen = listing.parse(form, fixed_state=None)
        except ValueError as exc:
            return self.problem(request, 400, f"bad filter: {exc}")
        if not chosen.can_act:
            return self.problem(request, 400, "acting on every job needs a filter")
        if form.get("confirm") != "yes":
            return self.render(
                request,
                "confirm.html",
                action=action,
                matching=describe(chosen.query, action),
                fields=chosen.action_fields(),
                back=self.inside(request, form.get("next", ""), "/jobs"),
            )
        count = await run_in_threadpool(act_on_matching, self.storage, chosen.query, action)
        done = "retried" if action == "retry" else "discarded"
        return self.redirect(request, form, "/jobs", f"{done} {count} job(s)")

    async def pause_queue(self, request: Request) -> Response:
        return await self._queue_action(request, paused=True)

    async def resume_queue(self, request: Request) -> Response:
        return await self._queue_action(request, paused=False)

    async def _queue_action(self, request: Request, *, paused: bool) -> Response:
        form = await self._form(request)
        if form is None:
            return self.problem(request, 403, "missing or wrong CSRF token: reload the page")
        name = request.path_params["name"]
        act = self.storage.pause if paused else self.storage.resume
        await run_in_threadpool(act, name)
        return self.redirect(
            request, form, "/queues", f"{'paused' if paused else 'resumed'} queue {name}"
        )

    async def pause_task(self, request: Request) -> Response:
        return await self._task_action(request, "pause")

    async def resume_task(self, request: Request) -> Response:
        return await self._task_action(request, "resume")

    async def run_task(self, request: Request) -> Response:
        return await self._task_action(request, "run")

    async def _task_action(self, request: Request, action: str) -> Response:
        form = await self._form(request)
        if form is None:
            return self.problem(request, 403, "missing or wrong CSRF token: reload the page")
        key = request.path_params["key"]
        if action == "run":
            run = await run_in_threadpool(run_now, self.storage, key)
            found = run is not None
            notice = f"enqueued job {run.job_id} for task {key}" if run else ""
            if run is not None and run.duplicate_of:  # flow: unique
                notice = f"not enqueued: job {run.duplicate_of} holds the unique key of task {key}"
        else:
            act = (
                self.storage.pause_recurring if action == "pause" else self.storage.resume_recurring
            )
            found = await run_in_threadpool(act, key)
            notice = f"{action}d recurring task {key}"
        if not found:
            return self.problem(request, 404, f"no recurring task {key}")
        return self.redirect(request, form, "/recurring", notice)

    # -- plumbing ----------------------------------------------------------------------

    def render(self, request: Request, template: str, **context: Any) -> Response:
        """A page, with the CSRF token its forms carry (and the cookie, if new)."""
        cookie = request.cookies.get(CSRF_COOKIE)
        token = cookie if cookie and self.csrf.signed(cookie) else self.csrf.issue()
        root = request.scope.get("root_path", "")
        html = self.templates.get_template(template).render(
            root=root,
            csrf_field=CSRF_FIELD,
            csrf_token=token,
            here=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
            notice=request.query_params.get("notice", ""),
            logout=bool(self.basic_auth),
            **context,
        )
        response = HTMLResponse(html)
        if token != cookie:
            response.set_cookie(
                CSRF_COOKIE,
                token,
                path=root or "/",
                httponly=True,
                samesite="strict",
                secure=request.url.scheme == "https",
            )
        return response

    def problem(self, request: Request, status: int, message: str) -> Response:
        """An error page (the message escaped like any other value)."""
        response = self.render(request, "problem.html", status=status, message=message)
        response.status_code = status
        return response

    def redirect(
        self, request: Request, form: dict[str, str], default: str, notice: str
    ) -> Response:
        """Back to the form's ``next`` page (only a path inside the dashboard), else
        ``default``, with a notice of what was done."""
        url = self.inside(request, form.get("next", ""), default)
        url += ("&" if "?" in url else "?") + urlencode({"notice": notice})
        return RedirectResponse(url, status_code=303)

    @staticmethod
    def inside(request: Request, target: str, default: str) -> str:
        """``target`` if it is a path inside the dashboard, else ``default`` under it."""
        root = request.scope.get("root_path", "")
        inside = target.startswith(f"{root}/") and not target.startswith("//")
        return target if inside and "\\" not in target else root + default

    async def _form(self, request: Request) -> dict[str, str] | None:
        """The POSTed form's fields, or ``None`` if its CSRF token is missing or wrong."""
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > FORM_LIMIT:
                return None
        try:
            fields = parse_qs(body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            return None
        form = {key: values[-1] for key, values in fields.items()}
        if not self.csrf.valid(request.cookies.get(CSRF_COOKIE), form.get(CSRF_FIELD)):
            return None
        return form


def routes(dashboard: Dashboard) -> list[BaseRoute]:
    """The route table: GET pages, POST actions, static files."""
    d = dashboard
    post = ["POST"]
    return [
        Route("/", d.overview, name="overview"),
        Route("/jobs", d.jobs, name="jobs"),
        Route("/jobs/retry", d.retry_matching, methods=post, name="retry_matching"),
        Route("/jobs/discard", d.discard_matching, methods=post, name="discard_matching"),
        Route("/jobs/{job_id:path}/retry", d.retry_job, methods=post, name="retry_job"),
        Route("/jobs/{job_id:path}/discard", d.discard_job, methods=post, name="discard_job"),
        Route("/jobs/{job_id:path}/run-now", d.run_job_now, methods=post, name="run_job_now"),
        Route("/jobs/{job_id:path}", d.job, name="job"),
        Route("/failed", d.failed, name="failed"),
        Route("/scheduled", d.scheduled, name="scheduled"),
        Route("/blocked", d.blocked, name="blocked"),
        Route("/logout", d.logout, name="logout"),
        Route("/queues", d.queues, name="queues"),
        Route("/queues/{name:path}/pause", d.pause_queue, methods=post, name="pause_queue"),
        Route("/queues/{name:path}/resume", d.resume_queue, methods=post, name="resume_queue"),
        Route("/workers", d.workers, name="workers"),
        Route("/recurring", d.recurring, name="recurring"),
        Route("/recurring/{key:path}/pause", d.pause_task, methods=post, name="pause_task"),
        Route("/recurring/{key:path}/resume", d.resume_task, methods=post, name="resume_task"),
        Route("/recurring/{key:path}/run", d.run_task, methods=post, name="run_task"),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]


def build_app(
    adapter: Any, check: BasicAuth | AuthCheck | None, *, base_path: str, secret: str | None
) -> Starlette:
    """The Starlette app :func:`activejob.dashboard.create_app` returns."""
    if base_path and (not base_path.startswith("/") or base_path.endswith("/")):
        raise ConfigurationError(
            f"base_path must start with '/' and not end with one, got {base_path!r}"
        )
    dashboard = Dashboard(adapter, CsrfTokens(secret))
    if isinstance(check, BasicAuth):
        dashboard.basic_auth = check.realm
    table = routes(dashboard)
    if base_path:
        table = [Mount(base_path, routes=table)]
    middleware = [Middleware(AuthMiddleware, check=check)] if check is not None else []
    app = Starlette(
        routes=table,
        middleware=middleware,
        exception_handlers={StorageError: _storage_failed},
    )
    app.state.dashboard = dashboard
    return app


async def _storage_failed(request: Request, exc: Exception) -> Response:
    return PlainTextResponse(f"the job store failed: {exc}", status_code=503)
