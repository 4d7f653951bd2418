"""Hooks for `make api-fuzz` (schemathesis against the local stack; see schemathesis.toml).

Each one states a rule of the API that JSON Schema cannot, so that data the document calls
valid is valid for the code too. None of them hides a failure: they shape what is sent.
"""

import datetime

import schemathesis

MARATHONS = {("POST", "/marathons"), ("PATCH", "/marathons/{id}")}


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


@schemathesis.hook
def map_case(context, case):
    operation = (case.operation.method.upper(), case.operation.path)
    # Cursors are opaque: only a listing gives them out, and any other is refused (400).
    if isinstance(case.query, dict):
        case.query.pop("cursor", None)
    # A marathon's registration closes by the end of its race day, UTC (the domain checks it
    # across fields, and against the stored marathon on a change): keep generated pairs in
    # that order, and complete a change of one of them with the widest value of the other.
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
