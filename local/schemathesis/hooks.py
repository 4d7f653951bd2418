"""Hooks for `make api-fuzz` (schemathesis against the local stack; see schemathesis.toml).

Each one states a rule of the API that JSON Schema cannot, so that data the document calls
valid is valid for the code too. None of them hides a failure: they shape what is sent.
"""

import datetime
import re

import schemathesis

MARATHONS = {("POST", "/marathons"), ("PATCH", "/marathons/{id}")}
RESULT = ("PUT", "/marathons/{id}/results/{runner_id}")
LONGEST = "96:00:00"
# RaceProfileBody's birth pattern in the document, as jsonschema applies it (re.search)
BIRTH_PATTERN = r"^\s*(?:[0-9]{4}|[0-9]{4}-[0-9]{2}-[0-9]{2})\s*$"


def _seconds(value):
    """A time as the API reads it (H:MM:SS or whole seconds), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)) and float(value).is_integer():
        return int(value)
    if isinstance(value, str):
        parts = value.strip().split(":")
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            return int(parts[0]) * 3600 + int(parts[1]) * 60 + int(parts[2])
    return None


def _shape_result(body):
    """A result's status and times agree (domain::race::ResultFields): a dnf or dns has no
    chip or gun time (a dns no splits either), a finish has a chip time, sent under one of
    its two names; the gun time is not below it; splits increase and end by it."""
    status = str(body.get("status") or "finished").strip().lower()
    if "finish_time" in body and "chip_time" in body:
        body.pop("finish_time")
    if status in ("dnf", "dns"):
        for field in ("chip_time", "finish_time", "gun_time"):
            body.pop(field, None)
        if status == "dns":
            body.pop("splits", None)
    splits = body.get("splits")
    if isinstance(splits, list):
        seen_labels, seen_times, kept = set(), set(), []
        for split in sorted(
            (s for s in splits if isinstance(s, dict) and _seconds(s.get("time")) is not None),
            key=lambda s: _seconds(s.get("time")),
        ):
            label = str(split.get("label", "")).strip()
            if label in seen_labels or _seconds(split["time"]) in seen_times:
                continue
            seen_labels.add(label)
            seen_times.add(_seconds(split["time"]))
            kept.append(split)
        # only a list the schema allows is shaped (every split an object with a time)
        if all(isinstance(x, dict) and _seconds(x.get("time")) is not None for x in splits):
            body["splits"] = kept
    if status in ("finished", "fin", "ok", "dq", "dsq"):
        chip = "chip_time" if "chip_time" in body else "finish_time"
        if body.get(chip) is None and (status != "dq" or body.get("gun_time") is not None):
            body[chip] = LONGEST
        # the longest chip time leaves room for every split below it
        if isinstance(body.get("splits"), list) and body["splits"] and body.get(chip) is not None:
            body[chip] = LONGEST
        if body.get("gun_time") is not None and body.get(chip) is not None:
            body["gun_time"] = LONGEST


def _date(value):
    try:
        return datetime.date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        return None


def _instant(value):
    try:
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else None
    except ValueError:
        return None
    return parsed if parsed is not None and parsed.tzinfo is not None else None


def _shape_birth(body):
    """A birth date or year is not before 1900 nor after today (domain::race::Birth)."""
    birth = body.get("birth")
    # only values the document allows: an invalid one stays invalid (shaping "1579\t *"
    # into a real date made a negative case valid, and its 200 a reported failure)
    if not isinstance(birth, str) or not re.search(BIRTH_PATTERN, birth):
        return
    text = birth.strip()
    year = int(text[:4]) if len(text) >= 4 and text[:4].isdigit() else None
    if year is None:
        return
    if len(text) == 10:
        try:
            too_late = datetime.date.fromisoformat(text) > datetime.date.today()
        except ValueError:
            # the pattern lets through days no calendar has (month 35): a real one instead
            body["birth"] = "1984-05-17"
            return
    else:
        too_late = year > datetime.date.today().year
    if year < 1900 or too_late:
        body["birth"] = birth.replace(text[:4], "1984", 1)


@schemathesis.hook
def map_case(context, case):
    operation = (case.operation.method.upper(), case.operation.path)
    if operation == ("PUT", "/me/race-profile") and isinstance(case.body, dict):
        _shape_birth(case.body)
    # Cursors are opaque: only a listing gives them out, and any other is refused (400).
    if isinstance(case.query, dict):
        case.query.pop("cursor", None)
    # A marathon's registration closes by the end of its race day, UTC (the domain checks it
    # across fields, and against the stored marathon on a change): keep generated pairs in
    # that order, and complete a change of one of them with the widest value of the other.
    if operation == RESULT and isinstance(case.body, dict):
        _shape_result(case.body)
    # dnf points are at most the points (on a change, of the stored marathon: keep them 0)
    dnf = _seconds(case.body.get("dnf_points")) if isinstance(case.body, dict) else None
    # only values the schema allows (0 to 100000): an invalid one stays invalid
    if operation in MARATHONS and dnf is not None and 0 <= dnf <= 100_000:
        points = _seconds(case.body.get("points"))
        case.body["dnf_points"] = min(_seconds(case.body["dnf_points"]), points) if points is not None else 0
    if operation in MARATHONS and isinstance(case.body, dict):
        body = case.body
        date, closes = _date(body.get("date")), _instant(body.get("registration_closes_at"))
        if date is not None and body.get("registration_closes_at") is None and operation[0] == "PATCH":
            body["registration_closes_at"] = "0001-01-01T00:00:00Z"
            closes = _instant(body["registration_closes_at"])
        if closes is not None and body.get("date") is None and operation[0] == "PATCH":
            body["date"] = "9999-12-31"
            date = _date(body["date"])
        if date is not None and closes is not None:
            # registration may close until the end of race day in UTC, whatever the offset
            try:
                closes_day = closes.astimezone(datetime.timezone.utc).date()
            except OverflowError:
                closes_day = closes.date()
            if closes_day > date:
                body["date"] = closes_day.isoformat()
    return case


@schemathesis.hook
def filter_failure(context, failure, case, response):
    # API Gateway routes by method and path, so a method the document does not list never
    # reaches a function: the gateway itself answers 404 {"message":"Not Found"} (our
    # functions answer problem+json). That is AWS's behaviour, not ours to change; any
    # other answer to an undeclared method is still a failure.
    undeclared_method = type(failure).__name__ == "UnsupportedMethodResponse"
    gateways_own = response.status_code == 404 and response.headers.get("content-type", [""])[0].startswith(
        "application/json"
    )
    return not (undeclared_method and gateways_own)
