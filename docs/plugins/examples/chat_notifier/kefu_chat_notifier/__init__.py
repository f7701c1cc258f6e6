"""kefu-chat-notifier: when a ticket misses an SLA target, post a JSON
message to a chat webhook (Slack, Mattermost, Teams or a bot of your own).

* ``sla_breached`` is a hook of the builtin ``tier_sla`` plugin (declared
  with its ``register_hookspecs``); it fires after the commit that recorded
  the breach, once per ticket, target and ladder step. Marked
  ``optionalhook``: with tier_sla switched off this plugin still loads, idle.
* The hook only queues a job (``register_jobs``, ``sdk.enqueue``): slow or
  unreliable work - HTTP - never runs inside kefu's notifications.
* The job posts once however often it runs (``sdk.effect_once``); a chat
  server that fails or answers 4xx/5xx makes the job fail, and kefu retries it.
"""
import json
import urllib.request

from marshmallow import Schema, fields, validate

from service import hookimpl, sdk

NAME = "chat_notifier"
JOB = "chat_notifier.post"


class Settings(Schema):
    # The chat's incoming-webhook URL; None (the default) posts nothing.
    CHAT_NOTIFIER_URL = fields.URL(load_default=None, allow_none=True, schemes={"http", "https"}, require_tld=False)
    # The channel named in each message.
    CHAT_NOTIFIER_CHANNEL = fields.String(load_default="#support", validate=validate.Length(min=1, max=80))
    # Seconds to wait for the chat server before the job fails (and is retried).
    CHAT_NOTIFIER_TIMEOUT = fields.Float(load_default=5.0, validate=validate.Range(min=0.1, max=60))


@hookimpl
def register_settings():
    """Where to post, which channel, how long to wait."""
    return Settings


@hookimpl
def register_jobs(app):
    """The job that posts one message."""
    return [{"name": JOB, "func": "kefu_chat_notifier:post", "queue": "default"}]


@hookimpl(optionalhook=True)
def sla_breached(ticket, target, due, step):
    """Queue the message of this breach: after the commit, once per ticket, target and step."""
    if sdk.plugin_settings(NAME)["CHAT_NOTIFIER_URL"] is None:
        return
    with sdk.UnitOfWork() as uow:
        sdk.enqueue(JOB, dedupe_key=f"{JOB}:{ticket.id}:{target}:{step}",
                    ticket_id=ticket.id, target=target, due=due.isoformat(), step=step)
        uow.commit()


def post(ticket_id: int, target: str, due: str, step: str) -> None:
    """The job: post the breach of ``target`` (``due`` an ISO time) as JSON,
    once per ticket, target and step. Raises when the chat server fails."""
    conf = sdk.plugin_settings(NAME)
    ticket = sdk.db.session.get(sdk.Ticket, ticket_id)
    if conf["CHAT_NOTIFIER_URL"] is None or ticket is None:  # switched off, or the ticket was deleted since
        return
    message = {"channel": conf["CHAT_NOTIFIER_CHANNEL"], "ticket": ticket.number, "priority": ticket.priority,
               "target": target, "step": step, "due": due,
               "text": f"{ticket.number} ({ticket.priority}) missed its {target.replace('_', ' ')} target, "
                       f"due {due} ({step})."}
    with sdk.effect_once(f"{JOB}:{ticket_id}:{target}:{step}") as go:
        if go:
            request = urllib.request.Request(conf["CHAT_NOTIFIER_URL"], data=json.dumps(message).encode(),
                                             headers={"Content-Type": "application/json"}, method="POST")
            # urlopen raises on a refused connection, a timeout and 4xx/5xx: the job is retried.
            urllib.request.urlopen(request, timeout=conf["CHAT_NOTIFIER_TIMEOUT"]).close()
