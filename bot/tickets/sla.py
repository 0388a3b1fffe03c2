"""Service-level due times: hours to the first response and to resolution, per priority."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class SlaPolicy:
    first_response_hours: dict[str, float]
    resolution_hours: dict[str, float]

    def due_times(self, priority: str, start: datetime) -> tuple[datetime, datetime]:
        """(first response due, resolution due) for a ticket opened at `start`."""
        return (
            start + timedelta(hours=self.first_response_hours[priority]),
            start + timedelta(hours=self.resolution_hours[priority]),
        )

    def first_response_text(self, priority: str) -> str:
        """How the customer is told the wait, e.g. "within 8 hours"."""
        return _hours_text(self.first_response_hours[priority])


def _hours_text(hours: float) -> str:
    if hours < 1:
        return f"within {round(hours * 60)} minutes"
    if hours == 1:
        return "within an hour"
    if hours >= 48 and hours % 24 == 0:
        return f"within {int(hours // 24)} days"
    return f"within {hours:g} hours"
