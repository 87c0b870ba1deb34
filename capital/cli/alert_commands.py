"""Alerts and who hears them: `alerts`, `alerts ack`, `sweep`, `subscribers ...`,
`outbox ...` and `scheduler` (the notifier's clock for deployments without Kafka)."""

from __future__ import annotations

import signal
from types import FrameType
from typing import Annotated, Any

import typer

from capital.application import alerting
from capital.application.principal import Operation
from capital.cli.context import (
    TodayOption,
    authorised,
    exit_on_refusal,
    fail,
    open_container,
    operator_principal,
    parse_date,
)
from capital.cli.output import Format, emit
from events import Severity
from services.notifier.service import NotFound
from services.notifier.store import DeliveryStatus
from services.notifier.subscriptions import (
    Channel,
)

alerts_app = typer.Typer(
    help="Alerts raised about schemes: list them, acknowledge one.", invoke_without_command=True
)
subscribers_app = typer.Typer(help="Who receives alerts, and which.", no_args_is_help=True)
outbox_app = typer.Typer(help="Deliveries of alerts and digests.", no_args_is_help=True)

ALERT_COLUMNS = [
    "alert_id",
    "scheme_id",
    "kind",
    "severity",
    "message",
    "raised_at",
    "delivery_status",
    "acknowledged",
]
SUBSCRIBER_COLUMNS = ["id", "channel", "address", "role", "severity", "schemes", "digest", "source"]
DELIVERY_COLUMNS = [
    "id",
    "kind",
    "alert_id",
    "channel",
    "recipient",
    "status",
    "attempts",
    "next_attempt_at",
    "sent_at",
    "last_error",
]

FormatOption = Annotated[Format, typer.Option("--format", help="table, json or csv.")]
SeverityOption = Annotated[
    Severity,
    typer.Option(
        "--severity",
        help="Send alerts at least this severe at once; the rest arrive in the daily digest.",
    ),
]
SchemesOption = Annotated[
    list[str] | None,
    typer.Option("--scheme", help="Only alerts about this scheme; repeat for more (default all)."),
]
RoleOption = Annotated[str, typer.Option("--role", help="e.g. head_of_capital, finance.")]
DigestOption = Annotated[
    bool, typer.Option("--digest/--no-digest", help="Also send the daily digest.")
]


def register(app: typer.Typer) -> None:
    app.add_typer(alerts_app, name="alerts")
    app.add_typer(subscribers_app, name="subscribers")
    app.add_typer(outbox_app, name="outbox")
    app.command("sweep")(sweep_command)
    app.command("scheduler")(scheduler_command)


# alerts --------------------------------------------------------------------------------


@alerts_app.callback()
def alerts_command(
    ctx: typer.Context,
    format: FormatOption = Format.table,
    scheme: Annotated[str | None, typer.Option("--scheme", help="Only this scheme.")] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Raised on or after this date (YYYY-MM-DD).")
    ] = None,
    unacknowledged: Annotated[
        bool, typer.Option("--unacknowledged", help="Only alerts nobody has acknowledged.")
    ] = False,
) -> None:
    """List alerts, newest first, with their delivery status.

    `capital alerts ack ID...` acknowledges them."""
    if ctx.invoked_subcommand is not None:
        return
    with open_container(ctx) as container:
        rows = alerting.alerts(
            container,
            operator_principal(container),
            alerting.AlertQuery(scheme, parse_date(since), unacknowledged),
        )
    if format is Format.table:
        rows = [_for_table(row) for row in rows]
    title = "Unacknowledged alerts" if unacknowledged else "Alerts"
    title += f"{f' for {scheme}' if scheme else ''}{f' since {since}' if since else ''}"
    emit(rows, format, ALERT_COLUMNS, title)


@alerts_app.command("ack")
def ack_command(
    ctx: typer.Context,
    alert_ids: Annotated[
        list[str] | None,
        typer.Argument(help="Alert ids, or their first characters.", show_default=False),
    ] = None,
    scheme: Annotated[
        str | None, typer.Option("--scheme", help="Every unacknowledged alert of this scheme.")
    ] = None,
    all_unacknowledged: Annotated[
        bool, typer.Option("--all-unacknowledged", help="Every alert nobody has acknowledged.")
    ] = False,
) -> None:
    """Acknowledge alerts: you have seen them and are dealing with them. Name them by id,
    or pick them with --scheme or --all-unacknowledged; an id that names no alert
    acknowledges nothing."""
    wanted = alerting.AlertQuery(scheme, None, True) if scheme or all_unacknowledged else None
    if not alert_ids and wanted is None:
        raise fail("name the alerts to acknowledge: ids, --scheme ID or --all-unacknowledged", 2)
    with open_container(ctx) as container:
        principal = authorised(container, Operation.acknowledge_alerts)
        with exit_on_refusal(NotFound):
            done = alerting.acknowledge(container, principal, alert_ids or [], wanted)
    for item in done:
        alert = item.alert
        if item.now:
            typer.echo(f"acknowledged {alert.alert_id} ({alert.subject}) as {principal.name}")
        else:
            typer.echo(
                f"{alert.alert_id} was already acknowledged by {alert.acknowledged_by} "
                f"at {alert.acknowledged_at:%Y-%m-%d %H:%M} UTC"
            )
    if wanted is not None:
        typer.echo(f"acknowledged {sum(item.now for item in done)} alert(s)")


def _for_table(row: dict[str, Any]) -> dict[str, Any]:
    """Short ids people can type back (`alerts ack` takes a prefix) and a count of sends."""
    deliveries = row["deliveries"]
    sent = sum(1 for d in deliveries if d["status"] == DeliveryStatus.sent)
    status = row["delivery_status"]
    return {
        **row,
        "alert_id": row["alert_id"][:8],
        "raised_at": f"{row['raised_at']:%Y-%m-%d %H:%M}",
        "delivery_status": f"{status} {sent}/{len(deliveries)}" if deliveries else status,
        "acknowledged": row["acknowledged_by"] or "",
    }


# sweep and scheduler --------------------------------------------------------------------


def sweep_command(
    ctx: typer.Context,
    today: TodayOption = None,
    again: Annotated[
        bool,
        typer.Option(
            "--again", help="Sweep even if this date was swept: nothing is raised or sent twice."
        ),
    ] = False,
) -> None:
    """Run the daily sweep once: overdue alerts, then digests.

    What the scheduler runs at 07:00: raise overdue alerts, queue each subscriber's
    digest, then send what is due. A date after today is refused: its sweep would claim
    that date, and the real sweep on the day would find it taken."""
    with open_container(ctx, today=parse_date(today)) as container:
        principal = authorised(container, Operation.run_sweep)
        day = container.settings.current_date()
        with exit_on_refusal(alerting.FutureSweep):
            report, counts = alerting.sweep(container, principal, day, again)
    if not report.ran:
        previous = report.previous_run
        when = (
            f" ({previous.status}, started {previous.started_at:%Y-%m-%d %H:%M} UTC by "
            f"{previous.claimed_by})"
            if previous
            else ""
        )
        typer.echo(f"{day} was swept already{when}; use --again to sweep it again.")
        return
    late = (
        f" {len(report.released)} late alert(s) held for the digest raised with it."
        if report.released
        else ""
    )
    typer.echo(
        f"Swept {day}: {len(report.raised)} overdue alert(s) raised, "
        f"{report.already_overdue} already raised before, {report.digests_queued} digest(s) queued."
        + late
    )
    for alert in report.raised:
        typer.echo(f"  {alert.subject}")
    _echo_outbox(counts)


def scheduler_command(ctx: typer.Context) -> None:
    """Run the notifier's clock: the daily sweep and delivery retries.

    The sweep runs at 07:00 Europe/London unless CAPITAL_NOTIFIER__SWEEP__AT and
    __TIMEZONE say otherwise; due deliveries are retried every few seconds. Safe to run
    beside other replicas and notifier workers: each date is swept once."""
    with open_container(ctx) as container:
        actor = authorised(container, Operation.run_scheduler).attribution
        if container.settings.today is not None:
            with exit_on_refusal(alerting.FutureSweep):
                alerting.refuse_future_sweep(
                    container, container.settings.today, "run the scheduler"
                )
        schedule = container.settings.notifier.sweep
        scheduler = container.notifier_scheduler(blocking=True)
        typer.echo(
            f"Sweeping daily at {schedule.at:%H:%M} {schedule.timezone}; retrying deliveries "
            f"every {schedule.dispatch_interval_s:g}s. Ctrl-C to stop."
        )

        def stop(signum: int, frame: FrameType | None) -> None:
            # Let a send in flight finish: killed mid-send, its outcome would be unknown.
            scheduler.shutdown(wait=True)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        with container.notifier.sweep.run_by(actor):
            scheduler.start()
        typer.echo("stopped")


# subscribers ----------------------------------------------------------------------------


@subscribers_app.command("add")
def subscribers_add(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="Email address, e.g. ana.lee@council.gov.uk.")],
    role: RoleOption = "head_of_capital",
    severity: SeverityOption = Severity.warning,
    scheme: SchemesOption = None,
    digest: DigestOption = True,
) -> None:
    """Subscribe a person by email."""
    _subscribe(ctx, "email", email, role, severity, scheme, digest)


@subscribers_app.command("add-webhook")
def subscribers_add_webhook(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="A Teams or Slack incoming-webhook URL, or yours.")],
    role: RoleOption = "channel",
    severity: SeverityOption = Severity.warning,
    scheme: SchemesOption = None,
    digest: DigestOption = True,
) -> None:
    """Subscribe a channel by webhook (format and signing: CAPITAL_NOTIFIER__WEBHOOK__*)."""
    _subscribe(ctx, "webhook", url, role, severity, scheme, digest)


def _subscribe(
    ctx: typer.Context,
    channel: Channel,
    address: str,
    role: str,
    severity: Severity,
    schemes: list[str] | None,
    digest: bool,
) -> None:
    with open_container(ctx) as container, exit_on_refusal(ValueError):
        subscribed = alerting.subscribe(
            container,
            authorised(container, Operation.manage_subscribers),
            channel,
            address,
            role,
            severity,
            schemes or [],
            digest,
        )
    saved, unknown = subscribed.recipient, subscribed.unknown_schemes
    if unknown:
        typer.secho(
            f"note: no scheme {', '.join(unknown)} is registered yet; alerts will follow once "
            "it is",
            err=True,
            fg="yellow",
        )
    follows = ", ".join(sorted(saved.schemes)) if saved.schemes else "all schemes"
    later = "the rest in a daily digest" if saved.digest else "no daily digest"
    typer.echo(
        f"subscribed {saved.shown_address} (#{saved.subscriber_id}, {saved.role}): "
        f"{follows}; {saved.min_severity.value} and above at once, {later}"
    )


@subscribers_app.command("list")
def subscribers_list(ctx: typer.Context, format: FormatOption = Format.table) -> None:
    """Every subscriber, from the CLI and from settings (webhook URLs shortened: they are
    secret)."""
    with open_container(ctx) as container:
        rows = alerting.subscribers(container, authorised(container, Operation.manage_subscribers))
    emit(rows, format, SUBSCRIBER_COLUMNS, "Subscribers")


@subscribers_app.command("remove")
def subscribers_remove(
    ctx: typer.Context,
    subscriber: Annotated[str, typer.Argument(help="Its id (see `list`) or its address.")],
) -> None:
    """Unsubscribe: nothing more is sent, including deliveries still queued."""
    with open_container(ctx) as container, exit_on_refusal(NotFound):
        shown, number, cancelled = alerting.unsubscribe(
            container, authorised(container, Operation.manage_subscribers), subscriber
        )
    note = f"; {cancelled} queued delivery(ies) cancelled" if cancelled else ""
    typer.echo(f"unsubscribed {shown} (#{number}){note}")


# outbox ---------------------------------------------------------------------------------


@outbox_app.command("dispatch")
def outbox_dispatch(ctx: typer.Context) -> None:
    """Send every delivery that is due now (what the scheduler does every few seconds)."""
    with open_container(ctx) as container:
        state = alerting.dispatch(container, authorised(container, Operation.operate_outbox))
    report, counts = state.dispatched, state.counts
    assert report is not None
    typer.echo(
        f"sent {report.sent}; {report.retrying + report.deferred} waiting to retry; "
        f"{report.failed} failed"
        + (f"; {report.unknown} with an unknown outcome" if report.unknown else "")
        + (f"; {report.resent} cut off mid-send, sent again" if report.resent else "")
    )
    _echo_outbox(counts)
    if report.failed or report.unknown:
        raise typer.Exit(1)


@outbox_app.command("list")
def outbox_list(
    ctx: typer.Context,
    status: Annotated[
        str | None,
        typer.Option(help="pending, sending, sent, failed, unknown or cancelled."),
    ] = None,
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 50,
    format: FormatOption = Format.table,
) -> None:
    """Deliveries with their attempts and last error."""
    if status is not None and status not in set(DeliveryStatus):
        raise fail(f"unknown status {status!r}", 2)
    with open_container(ctx) as container:
        rows = alerting.deliveries(container, operator_principal(container), status, limit)
    emit(rows, format, DELIVERY_COLUMNS, "Outbox")


@outbox_app.command("retry")
def outbox_retry(
    ctx: typer.Context,
    ids: Annotated[list[int] | None, typer.Argument(help="Delivery ids (see `list`).")] = None,
    failed: Annotated[bool, typer.Option("--failed", help="Every failed delivery.")] = False,
    unknown: Annotated[
        bool, typer.Option("--unknown", help="Every delivery whose outcome is unknown.")
    ] = False,
) -> None:
    """Queue failed or unknown deliveries again and send them now.

    Deliveries cancelled because their recipient unsubscribed are never sent again, nor is
    anything to a recipient who is no longer subscribed. Who asked is recorded."""
    statuses = [s for s, wanted in (("failed", failed), ("unknown", unknown)) if wanted]
    if not ids and not statuses:
        raise fail("name delivery ids, or --failed / --unknown", 2)
    with open_container(ctx) as container:
        principal = authorised(container, Operation.operate_outbox)
        with exit_on_refusal(NotFound):
            retried, state = alerting.retry(container, principal, ids or [], statuses)
    report = state.dispatched
    assert report is not None
    for row_id, why in retried.refused.items():
        typer.secho(f"delivery {row_id} not requeued: {why}", err=True, fg="yellow")
    typer.echo(
        f"requeued {retried.requeued}; sent {report.sent}; {report.retrying} waiting to retry"
    )
    if set(retried.refused) & set(ids or []):
        raise typer.Exit(1)  # a delivery named by id was not sent again


def _echo_outbox(counts: dict[str, int]) -> None:
    waiting = counts.get("pending", 0) + counts.get("sending", 0)
    problems = {s: counts.get(s, 0) for s in ("failed", "unknown") if counts.get(s)}
    line = f"outbox: {counts.get('sent', 0)} sent, {waiting} waiting"
    line += "".join(f", {n} {s}" for s, n in problems.items())
    typer.echo(line)
    if problems:
        typer.secho("see `capital outbox list --status failed` (or unknown)", err=True, fg="yellow")
