from datetime import datetime, timedelta

from django import template

from moderation.models import RoutingRule

register = template.Library()


@register.filter
def percent(value: float) -> str:
    """0.734 -> "73.4", clamped to 0–100: a bar's width or a precision."""
    return f"{min(max(float(value), 0.0), 1.0) * 100:.1f}"


@register.filter
def ratio_percent(counts: tuple[int, int]) -> str:
    agreed, judged = counts
    return percent(agreed / judged) if judged else "—"


@register.filter
def duration_short(age: timedelta) -> str:
    minutes = int(age.total_seconds() // 60)
    return minutes_short(minutes)


@register.filter
def minutes_from(later: datetime, earlier: datetime) -> int:
    """Whole minutes from `earlier` to `later` (for minutes_short, which workspace.js mirrors)."""
    return int((later - earlier).total_seconds() // 60)


@register.filter
def minutes_short(minutes: int) -> str:
    days, rest = divmod(int(minutes), 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"


@register.filter
def humanize_action(action: str) -> str:
    return RoutingRule.Action(action).label if action in RoutingRule.Action.values else action


@register.filter
def web_link(value) -> str:
    """The value if it is an http(s) address (a client's link to the thread or article), else "":
    no other scheme ever becomes a link."""
    text = str(value)
    return text if text.startswith(("https://", "http://")) and len(text) <= 2000 else ""
