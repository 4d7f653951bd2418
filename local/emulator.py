"""Starts moto's server on 127.0.0.1:PORT for the local stack.

Run as `.venv/bin/python local/emulator.py --port N`. The process lives exactly
as long as its stdin stays open: the Rust side holds the write end of a pipe,
so when that process exits for any reason (even a crash or SIGKILL) the pipe
closes, we read EOF here and the emulator goes with it. No stray servers.

Exit codes: 0 after stdin EOF, 98 when the port is taken (the Rust side picks
another port and retries), 3 when moto is not installed, 1 for anything else.
"""

import argparse
import errno
import io
import itertools
import json
import logging
import random
import sys
import threading
import time

EXIT_ADDRESS_IN_USE = 98
EXIT_TOOLS_MISSING = 3

try:
    from moto.core.exceptions import JsonRESTError
    from moto.dynamodbstreams import models as streams_models
    from moto.moto_server import threaded_moto_server
    from moto.server import ThreadedMotoServer
    from moto.ses import exceptions as ses_exceptions
    from moto.ses import models as ses_models
    from moto.sns import exceptions as sns_exceptions
    from moto.sns import models as sns_models
except ImportError as exc:  # a half-made virtualenv: say how to fix it, not a traceback
    print(f"emulator: {exc}: run `make tools` (or `make test`) first", file=sys.stderr)
    sys.exit(EXIT_TOOLS_MISSING)


# moto's TransactWriteItems is not safe under concurrent requests: a cancelled
# transaction restores a snapshot of whole tables, erasing writes other requests made
# meanwhile (seen: 20 concurrent signups lost an unrelated login's activity entry).
# DynamoDB requests are therefore handled one at a time; other services (SQS long
# polls above all) stay concurrent.
_DYNAMODB = threading.Lock()
_Dispatcher = threaded_moto_server.DomainDispatcherApplication


def _serialized_dynamodb(create_backend_app):
    app = _Dispatcher(create_backend_app)

    def handle(environ, start_response):
        if environ.get("PATH_INFO") == FAULTS_PATH:
            return _set_faults(environ, start_response)
        if environ.get("PATH_INFO") == SENT_MAIL_PATH:
            return _sent_mail(environ, start_response)
        injected = _random_fault(environ)
        if injected is not None and not injected[2]:
            return _fault_response(injected, environ, start_response)
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target.startswith("DynamoDB"):
            with _DYNAMODB:
                if target.endswith(".TransactWriteItems"):
                    status, headers, body = _idempotent_transaction(app, environ)
                else:
                    status, headers, body = _collect(app, environ)
        elif injected is not None:
            status, headers, body = _collect(app, environ)
        else:
            return app(environ, start_response)
        if injected is not None:
            # handled, and the answer lost: the caller cannot tell it from a failure
            return _fault_response(injected, environ, start_response, read=False)
        start_response(status, headers)
        return [body]

    return handle


def _collect(app, environ):
    """The app's whole answer: status, headers and body."""
    answer = {}

    def start(status, headers, exc_info=None):
        answer["status"], answer["headers"] = status, headers
        return lambda data: None

    body = b"".join(app(environ, start))
    return answer["status"], answer["headers"], body


# TransactWriteItems is idempotent on AWS for ten minutes by its ClientRequestToken, which
# the SDKs fill in and keep across their retries: a retry of a transaction that succeeded
# (its answer lost) succeeds again without applying it twice. moto ignores the token (the
# retry would fail its own conditions), so successes are remembered here by token.
_TRANSACTION_TOKENS = {}
TRANSACTION_TOKEN_SECONDS = 600


def _idempotent_transaction(app, environ):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(raw)
    try:
        token = json.loads(raw or b"{}").get("ClientRequestToken")
    except (ValueError, AttributeError):
        token = None
    now = time.monotonic()
    for old in [t for t, kept in _TRANSACTION_TOKENS.items() if kept[0] <= now]:
        del _TRANSACTION_TOKENS[old]
    if token is not None and token in _TRANSACTION_TOKENS:
        return _TRANSACTION_TOKENS[token][1:]
    status, headers, body = _collect(app, environ)
    if token is not None and status.startswith("200"):
        _TRANSACTION_TOKENS[token] = (now + TRANSACTION_TOKEN_SECONDS, status, headers, body)
    return status, headers, body


# Faults on demand, for tests of what an outage does: POST FAULTS_PATH with
# {"ses": {"code": "Throttling", "message": "Daily message quota exceeded.", "seconds": 5}}
# makes every SES send answer that error for that long ({"ses": null} ends it at once);
# {"sns": {"seconds": 5}} makes every SNS publish fail (below);
# {"random": {"share": 0.2, "seed": 7, "services": ["dynamodb", "sns", "sqs", "ses"],
# "agent": "app/soak", "after": 0.5, "seconds": 600}} answers that share of the calls to
# those services (by the service of the request's signature; only requests whose user agent
# holds `agent`, when given) with throttling or a 5xx before they are handled, and `after`
# of the 5xx of DynamoDB, SNS and SQS after they were handled (below); "kinds" (of
# "throttling", "500", "503") narrows the draw, "times" stops after that many faults.
# GET FAULTS_PATH shows the random faults' counters.
FAULTS_PATH = "/_mrmrthon/faults"
_FAULTS = {}
_FAULTS_LOCK = threading.Lock()


# The mail sent through SES, for the local stack's mailbox: GET SENT_MAIL_PATH?Message=0&
# RawMessage=12&TemplateMessage=0 answers each kind's messages from that index on, as
# /moto-api/data.json shows them under "ses", and "next": the indexes to ask for next time.
# data.json dumps every model instance moto ever made, DynamoDB items and stream records
# included (17,000 items, 2.8 s, while a 1,000-finisher import was half way), and holds the
# interpreter's lock while it does: polled several times a second, it slowed every other
# request to the emulator. This reads SES's models only, and only the new ones.
SENT_MAIL_PATH = "/_mrmrthon/ses/sent"
SENT_MAIL_KINDS = ("Message", "RawMessage", "TemplateMessage")


def _sent_mail(environ, start_response):
    from urllib.parse import parse_qs

    from moto.core.model_instances import model_data

    asked = parse_qs(environ.get("QUERY_STRING", ""))
    answer = {"next": {}}
    for kind in SENT_MAIL_KINDS:
        model = model_data.get("ses", {}).get(kind)
        instances = list(getattr(model, "instances_tracked", []))
        try:
            start = int(asked.get(kind, ["0"])[0])
        except ValueError:
            start = 0
        # fewer than asked for: the emulator was reset since; all of them again
        if start > len(instances):
            start = 0
        answer[kind] = [_public_attributes(m) for m in instances[start:]]
        answer["next"][kind] = len(instances)
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(answer).encode()]


def _public_attributes(instance):
    """An instance as /moto-api/data.json shows it: its public JSON-able attributes."""
    shown = {}
    for name in dir(instance):
        if name.startswith("_"):
            continue
        try:
            value = getattr(instance, name)
            json.dumps(value)
        except (TypeError, AttributeError, ValueError):
            continue
        shown[name] = value
    return shown


def _set_faults(environ, start_response):
    if environ.get("REQUEST_METHOD") == "GET":
        with _FAULTS_LOCK:
            counters = {"calls": dict(_RANDOM_CALLS), "faults": dict(_RANDOM_FAULTS)}
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(counters).encode()]
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = json.loads(environ["wsgi.input"].read(length) or b"{}")
        with _FAULTS_LOCK:
            for service, fault in body.items():
                if fault is None:
                    _FAULTS.pop(service, None)
                else:
                    fault = dict(fault, until=time.monotonic() + float(fault.get("seconds", 60)))
                    if service == "random":
                        fault["draws"] = random.Random(int(fault.get("seed", 0)))
                        fault["share"] = float(fault["share"])
                        fault["services"] = set(fault.get("services", _RANDOM_SERVICES))
                        _RANDOM_CALLS.clear()
                        _RANDOM_FAULTS.clear()
                    _FAULTS[service] = fault
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b"{}"]
    except (ValueError, KeyError, TypeError) as exc:
        start_response("400 Bad Request", [("Content-Type", "text/plain")])
        return [f"bad fault: {exc}".encode()]


# Random faults: what a service answers under load or in a bad minute. Throttling is the
# code each SDK counts as throttling for that protocol; the 5xx are AWS's generic ones. A
# fault answered before the request is handled means nothing it asked for happened; a 5xx
# answered after it (a write that succeeded, its answer lost) is the harder case for the
# caller's idempotency. SES is never faulted after: it keeps no idempotency key, so no
# client could tell a sent mail from a refused one.
_RANDOM_SERVICES = ("dynamodb", "sns", "sqs", "ses")
_AFTER_SERVICES = ("dynamodb", "sns", "sqs")
_RANDOM_KINDS = ("throttling", "throttling", "500", "503")
_RANDOM_CALLS = {}
_RANDOM_FAULTS = {}


def _signing_service(environ):
    # "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/dynamodb/aws4_request, ..."
    auth = environ.get("HTTP_AUTHORIZATION", "")
    start = auth.find("Credential=")
    if start < 0:
        return None
    scope = auth[start + len("Credential=") :].split(",")[0].split("/")
    return scope[3] if len(scope) > 3 else None


def _random_fault(environ):
    """The kind of fault to answer this request with, or None."""
    with _FAULTS_LOCK:
        fault = _FAULTS.get("random")
        if fault is None:
            return None
        if time.monotonic() >= fault["until"]:
            del _FAULTS["random"]
            return None
        service = _signing_service(environ)
        if service not in fault["services"]:
            return None
        agent = fault.get("agent")
        agents = environ.get("HTTP_USER_AGENT", "") + " " + environ.get("HTTP_X_AMZ_USER_AGENT", "")
        if agent and agent not in agents:
            return None
        _RANDOM_CALLS[service] = _RANDOM_CALLS.get(service, 0) + 1
        if fault.get("times", 1) <= 0 or fault["draws"].random() >= fault["share"]:
            return None
        if "times" in fault:
            fault["times"] -= 1
        kind = fault["draws"].choice(fault.get("kinds") or _RANDOM_KINDS)
        after = (
            kind != "throttling"
            and service in _AFTER_SERVICES
            and fault["draws"].random() < float(fault.get("after", 0))
        )
        counts = _RANDOM_FAULTS.setdefault(service, {})
        label = kind + (" after" if after else "")
        counts[label] = counts.get(label, 0) + 1
        return service, kind, after


def _fault_response(injected, environ, start_response, read=True):
    service, kind, _ = injected
    status = {"throttling": "400 Bad Request", "500": "500 Internal Server Error", "503": "503 Service Unavailable"}[kind]
    if environ.get("HTTP_X_AMZ_TARGET"):  # the JSON protocols (DynamoDB, SQS)
        code = {
            "throttling": "ProvisionedThroughputExceededException" if service == "dynamodb" else "ThrottlingException",
            "500": "InternalServerError",
            "503": "ServiceUnavailable",
        }[kind]
        body = json.dumps({"__type": code, "message": f"injected fault: {kind}"}).encode()
        headers = [("Content-Type", "application/x-amz-json-1.0"), ("x-amzn-ErrorType", code)]
        if service == "sqs":
            headers.append(("x-amzn-query-error", f"{code};{'Receiver' if kind != 'throttling' else 'Sender'}"))
    else:  # the query protocols (SNS, SES)
        code = {"throttling": "Throttling", "500": "InternalError", "503": "ServiceUnavailable"}[kind]
        side = "Sender" if kind == "throttling" else "Receiver"
        body = (
            f"<ErrorResponse><Error><Type>{side}</Type><Code>{code}</Code>"
            f"<Message>injected fault: {kind}</Message></Error><RequestId>injected</RequestId></ErrorResponse>"
        ).encode()
        headers = [("Content-Type", "text/xml")]
    if read:  # what was sent, or it would be taken for the next request on the connection
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    start_response(status, headers + [("Content-Length", str(len(body)))])
    return [body]


def _fault(service):
    with _FAULTS_LOCK:
        fault = _FAULTS.get(service)
        if fault is not None and time.monotonic() >= fault["until"]:
            del _FAULTS[service]
            return None
        return fault


class _SesFault(ses_exceptions.SesError):
    # "Throttling" is no error shape of SES's model: moto answers it as a 400 with this code
    pass


_send_raw_email = ses_models.SESBackend.send_raw_email


def _send_raw_email_faulty(self, *args, **kwargs):
    fault = _fault("ses")
    if fault is not None:
        raise _SesFault(fault.get("code", "Throttling"), fault.get("message", "Maximum sending rate exceeded."))
    return _send_raw_email(self, *args, **kwargs)


ses_models.SESBackend.send_raw_email = _send_raw_email_faulty


# {"sns": {"seconds": N}}: every publish answers "Topic does not exist", as while a topic is
# gone. Tests hold it while they bring a deleted topic back, so that no publish lands in the
# moment between the topic's return and its subscription's (a message published then has no
# subscriber; on AWS that gap is what reconciliation repairs, tests/whole_stack/reconcile.rs).
def _sns_faulty(publish):
    def faulty(self, *args, **kwargs):
        if _fault("sns") is not None:
            raise sns_exceptions.TopicNotFound()
        return publish(self, *args, **kwargs)

    return faulty


sns_models.SNSBackend.publish = _sns_faulty(sns_models.SNSBackend.publish)
sns_models.SNSBackend.publish_batch = _sns_faulty(sns_models.SNSBackend.publish_batch)

threaded_moto_server.DomainDispatcherApplication = _serialized_dynamodb


def _cheap_transactions() -> None:
    """moto snapshots every table a transaction touches with copy.deepcopy, items and
    stream records included, so each transaction costs time in proportion to everything
    ever written: a test suite slows to a crawl. With DynamoDB requests serialized above,
    checking every condition first makes the snapshot unnecessary: a transaction that
    would be cancelled is refused before it changes anything, as AWS does."""
    import copy

    from moto.dynamodb import models
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import TransactionCanceledException
    from moto.dynamodb.models.table import Table

    class _NoTableSnapshots:
        def __getattr__(self, name):
            return getattr(copy, name)

        @staticmethod
        def deepcopy(value, memo=None):
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    models.copy = _NoTableSnapshots()
    original = models.DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):
        failures = []
        for entry in transact_items:
            op_type, op = next(iter(entry.items()))
            condition = op.get("ConditionExpression")
            if condition is None or op.get("TableName") not in self.tables:
                failures.append((None, None, None))
                continue
            table = self.get_table(op["TableName"])
            if op_type == "Put":
                attrs = op["Item"]
                key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = attrs[table.range_key_attr]
            else:
                key = op["Key"]
            current = self.get_item(op["TableName"], key)
            check = get_filter_expression(
                condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
            )
            if check.expr(current):
                failures.append((None, None, None))
            else:
                failures.append(("ConditionalCheckFailed", "The conditional request failed", None))
        if any(code is not None for code, _, _ in failures):
            raise TransactionCanceledException(failures)
        return original(self, transact_items)

    models.DynamoDBBackend.transact_write_items = transact_write_items


_cheap_transactions()


def _cheap_queries() -> None:
    """moto answers a Query on a table's own key by listing and sorting every item of the
    table, then keeping the partition's: each Query costs time in proportion to the whole
    table (a 1,000-finisher import's pipeline slowed as its tables grew). A partition is
    one dict in moto's table: hand the Query only that. Index queries are left as they are
    (an index is not kept by key)."""
    from moto.dynamodb.models.table import Table

    original = Table.query

    def query(self, hash_key, *args, **kwargs):
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
        if index_name or hash_key is None:
            return original(self, hash_key, *args, **kwargs)
        partition = self.items.get(hash_key)
        if partition is None:
            found = []
        elif self.range_key_attr:
            found = list(partition.values())
        else:
            found = [partition]
        # DynamoDB requests are served one at a time (above): nothing else sees this
        self.all_items = lambda: found
        try:
            return original(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items

    Table.query = query


_cheap_queries()


def _cheap_receives() -> None:
    """moto checks each message it receives against the queue's retention period by asking
    for the queue's attributes, and answers that by computing every attribute (three
    counts over every message in the queue) three times: receiving from a queue of
    thousands cost time in proportion to its depth, per message (half the emulator's CPU
    while a 5,000-finisher import's mails and awards queued). The period is a plain
    attribute of the queue: read it there, with the same rule."""
    from moto.core.utils import unix_time
    from moto.sqs.models import SQSBackend

    def is_message_valid_based_on_retention_period(self, queue_name, message):
        retention_period = int(self.get_queue(queue_name).message_retention_period)
        return retention_period + message.sent_timestamp / 1000 > unix_time()

    SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period


_cheap_receives()


# Every SNS publish is announced on stdout as one `@hop {json}` line: the local stack turns
# it into the "publish" hop of its log (SNS delivers to SQS inside the emulator, so nothing
# else would ever see it).
HOP_PREFIX = "@hop "
_Topic = sns_models.Topic
_topic_publish = _Topic.publish


def _correlation_id(message, attributes):
    for name in ("correlation_id", "correlation-id", "x-correlation-id"):
        attribute = (attributes or {}).get(name)
        if isinstance(attribute, dict):
            value = attribute.get("StringValue", attribute.get("Value"))
            if isinstance(value, str):
                return value
    try:
        body = json.loads(message)
    except (TypeError, ValueError):
        return None
    value = body.get("correlation_id") if isinstance(body, dict) else None
    return value if isinstance(value, str) else None


def _announced_publish(self, message, *args, **kwargs):
    started = time.monotonic()
    message_id = _topic_publish(self, message, *args, **kwargs)
    attributes = kwargs.get("message_attributes", args[1] if len(args) > 1 else None)
    try:
        subscriptions = len(self.sns_backend.list_subscriptions_by_topic(topic_arn=self.arn)[0])
        hop = {
            "kind": "publish",
            "topic": self.arn,
            "message_id": message_id,
            "subscriptions": subscriptions,
            "correlation_id": _correlation_id(message, attributes),
            "millis": round((time.monotonic() - started) * 1000, 1),
        }
        print(HOP_PREFIX + json.dumps(hop), flush=True)
    except Exception as exc:  # noqa: BLE001 - an announcement never fails a publish
        print(f"emulator: cannot announce a publish: {exc}", file=sys.stderr, flush=True)
    return message_id


_Topic.publish = _announced_publish


# moto keeps every shard iterator forever, in its backend and in its model tracker (which
# /moto-api/data.json dumps). The local stack's stream pollers ask for a new one several
# times a second, so memory and data.json would grow without bound. AWS expires iterators
# after 15 minutes; keep the newest ten thousand (about that long at the pollers' rate), and
# do not track them as models.
SHARD_ITERATORS_KEPT = 10_000
streams_models.ShardIterator.__new__ = staticmethod(lambda cls, *args, **kwargs: object.__new__(cls))
_get_records = streams_models.DynamoDBStreamsBackend.get_records


def _get_records_pruned(self, iterator_arn, limit):
    result = _get_records(self, iterator_arn, limit)
    excess = len(self.shard_iterators) - SHARD_ITERATORS_KEPT
    for arn in list(itertools.islice(self.shard_iterators, max(excess, 0))):
        del self.shard_iterators[arn]
    return result


streams_models.DynamoDBStreamsBackend.get_records = _get_records_pruned


# AWS answers TrimmedDataAccessException for a sequence number older than the shard's
# oldest record (what the stream no longer holds); moto fails an assertion later, in
# GetRecords, with an HTML 500. The replay of stream failures tells the two apart.
class _TrimmedDataAccess(JsonRESTError):
    code = 400

    def __init__(self) -> None:
        super().__init__(
            "TrimmedDataAccessException",
            "The operation attempted to read past the oldest stream record in a shard.",
        )


_get_shard_iterator = streams_models.DynamoDBStreamsBackend.get_shard_iterator


def _get_shard_iterator_bounded(self, arn, shard_id, shard_iterator_type, sequence_number=None):
    if shard_iterator_type in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER") and sequence_number:
        shard = self._get_table_from_arn(arn).stream_shard
        if shard is not None and int(sequence_number) < shard.starting_sequence_number:
            raise _TrimmedDataAccess()
    return _get_shard_iterator(self, arn, shard_id, shard_iterator_type, sequence_number)


streams_models.DynamoDBStreamsBackend.get_shard_iterator = _get_shard_iterator_bounded


class _Server(ThreadedMotoServer):
    # ThreadedMotoServer.start() waits forever when binding fails in its thread;
    # record the failure and wake start() up so we can exit with a clear code.
    failure = None

    def _server_entry(self) -> None:
        try:
            super()._server_entry()
        except BaseException as exc:  # noqa: BLE001 - reported to the parent below
            self.failure = exc
            self._server_ready_event.set()


def _address_in_use(exc: BaseException) -> bool:
    # werkzeug reports EADDRINUSE itself and calls sys.exit(1) instead of raising.
    if isinstance(exc, SystemExit):
        return True
    return isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--verbose", action="store_true", help="log every request (werkzeug access log)"
    )
    args = parser.parse_args()

    if not args.verbose:
        # One access-log line per SDK call drowns everything else out.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)

    server = _Server(ip_address="127.0.0.1", port=args.port, verbose=False)
    server.start()
    if server.failure is not None:
        print(f"emulator: cannot listen on 127.0.0.1:{args.port}: {server.failure}", file=sys.stderr)
        if _address_in_use(server.failure):
            return EXIT_ADDRESS_IN_USE
        return 1

    host, port = server.get_host_and_port()
    print(f"emulator ready on http://{host}:{port}", flush=True)

    # Block until the parent closes our stdin (normally or by dying).
    while sys.stdin.buffer.read(4096):
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
