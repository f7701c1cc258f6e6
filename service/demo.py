"""Demo data for ``make run``: departments, staff of every role, customers, and
tickets in every status, made through the real use cases so histories are real.

Two sizes. ``full`` (``kefu demo``): about six months up to now, a few
hundred customers and a couple of thousand tickets, each step made at its
time through the real use cases with the clock moved (``service.clock``;
``service.demo_history``), so the dashboard's weekly trends have half a
year of points. ``small`` (``kefu demo --small``, and the tests): one day,
the eight customers ``C-0001`` ... ``C-0008`` and a dozen tickets.

The plugins add their part through ``demo_data`` (see docs/plugins.md):
those that take the ``DemoPeriod`` at two stages (after the customers,
after the history), the others once at the end. The history is made up:
the mail and jobs it queued are dropped at the end (nothing is sent, and
nothing waits to fire in the past when the workers start); the clock is
the real time again afterwards.

The demo logins are fixed so that ``make run`` can print them every time; they
are for a local demo only.
"""
from __future__ import annotations

import functools
import hashlib
import random
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select

from service import demo_history
from service.domain.actors import Actor
from service.domain.errors import Refused
from service.extensions import db
from service.hooks import plugins
from service.hooks.types import DemoPeriod
from service.jobs import registry as jobs
from service.models import ApiToken, Customer, Department, OutboxJob, Staff, Ticket
from service.models.base import utcnow
from service.usecases import macros, messages, opening, tickets
from service.usecases.auth import hash_password
from service.usecases.uow import UnitOfWork

DEPARTMENTS = [
    ("sales", "Sales", "销售部"), ("after_sales", "After-sales", "售后部"),
    ("technical", "Technical support", "技术部"), ("logistics", "Logistics", "物流部"),
    ("finance", "Finance", "财务部"), ("quality", "Quality", "质量部"),
]

# email, role, password, API token
DEMO_LOGINS = [
    ("admin@kefu.demo", "admin", "demo-admin-pass", "kefu_demo_admin_token"),
    ("supervisor@kefu.demo", "supervisor", "demo-super-pass", "kefu_demo_supervisor_token"),
    ("agent@kefu.demo", "agent", "demo-agent-pass", "kefu_demo_agent_token"),
    ("finance@kefu.demo", "finance", "demo-finance-pass", "kefu_demo_finance_token"),
]

CUSTOMERS = [
    ("C-0001", "company", "华为终端有限公司", "service@huawei.demo", "zh_CN"),
    ("C-0002", "company", "Acme Trading Ltd", "ops@acme.demo", "en"),
    ("C-0003", "person", "王芳", "wangfang@example.demo", "zh_CN"),
    ("C-0004", "person", "李明", "liming@example.demo", "zh_CN"),
    ("C-0005", "person", "Emma Clark", "emma@example.demo", "en"),
    ("C-0006", "company", "上海星辰物流", "kefu@xingchen.demo", "zh_CN"),
    ("C-0007", "person", "张伟", "zhangwei@example.demo", "zh_CN"),
    ("C-0008", "person", "Lucas Martin", "lucas@example.demo", "en"),
]

TICKETS = [  # (customer index, category, kind, priority, subject, description, path of actions)
    (2, "slow_delivery", "complaint", "high", "洗衣机延迟送货", "订单一周了还没有送到，客服电话也打不通。", []),
    (4, "product_complexity", "complaint", "normal", "Remote app is too hard to set up",
     "I could not pair the app with the air conditioner after an hour.", ["confirm"]),
    (3, "installer_charges", "complaint", "high", "安装工额外收费", "安装师傅要求另付200元材料费。",
     ["confirm", "start"]),
    (1, "spare_parts_price", "complaint", "normal", "Spare parts far too expensive",
     "The replacement filter costs half the price of the unit.", ["confirm", "start", "wait"]),
    (0, "slow_service", "complaint", "urgent", "售后响应太慢", "报修三天无人上门。",
     ["confirm", "start", "resolve"]),
    (5, "slow_delivery", "service_request", "normal", "请安排上门取件", "需要退回一台损坏的打印机。",
     ["confirm", "start", "resolve", "close"]),
    (7, "other", "suggestion", "low", "Please add WeChat notifications", "E-mail is easy to miss.",
     ["cancel"]),
    (6, "product_quality", "complaint", "high", "冰箱噪音大", "新买的冰箱夜间噪音很大。",
     ["confirm", "start", "resolve", "reopen"]),
]


# Canned replies shared with the team: (name, Chinese name, English, Chinese, scope, next step).
MACROS = [
    ("Greeting and tracking link", "问候与跟踪链接",
     "Dear {customer_name},\n\nThank you for contacting us about case {ticket_number}. You can follow it at any "
     "time here: {tracking_link}\n\n{agent_name}, {department}",
     "{customer_name}您好：\n\n感谢您就案件 {ticket_number} 联系我们。您可以随时在此查看进度：{tracking_link}\n\n"
     "{department} {agent_name}", "all", None),
    ("Ask for a photo", "请客户提供照片",
     "Dear {customer_name},\n\nCould you send us a photo of the product and its label? We will go on as soon as "
     "we have it.\n\n{agent_name}",
     "{customer_name}您好：\n\n请发一张产品及其铭牌的照片给我们，收到后我们会立即继续处理。\n\n{agent_name}",
     "all", "wait"),
    ("Part replaced, resolved", "已更换部件并解决",
     "Dear {customer_name},\n\nOur technician has replaced the faulty part. If anything is still wrong, just "
     "reply to this message.\n\n{agent_name}, {department}",
     "{customer_name}您好：\n\n我们的技术人员已更换故障部件。如仍有问题，请直接回复本消息。\n\n{department} {agent_name}",
     "department", "resolve"),
]


def _macros(people) -> None:
    """The shared canned replies (``MACROS``): everyone's by the admin, the
    after-sales team's by its supervisor - so the reply box's picker is not
    empty in the demo."""
    for name, name_zh, body_en, body_zh, scope, step in MACROS:
        owner = people["supervisor"] if scope == "department" else people["admin"]
        macros.create_macro(owner, {"name": name, "name_zh": name_zh, "body_en": body_en, "body_zh": body_zh, "scope": scope,
                                    "set_status": step})


def has_data() -> bool:
    """True when the database already has staff or tickets."""
    return bool(db.session.scalar(select(func.count(Staff.id)))) or \
        bool(db.session.scalar(select(func.count(Ticket.id))))


def _staff(email, name, role, dept, password, token=None):
    member = Staff(email=email, name=name, role=role, department=dept, password_hash=_hash(password))
    db.session.add(member)
    db.session.flush()
    if token:
        db.session.add(ApiToken(staff_id=member.id, token_hash=hashlib.sha256(token.encode()).hexdigest(),
                                label="demo"))
    return member


SIZES = ("small", "full")
SEED = 20  # the full demo's choices: the same history on every run


@functools.cache
def _hash(password: str) -> str:
    """``hash_password``, once per demo password (a slow hash by design: the
    department leads share theirs)."""
    return hash_password(password)


def load_demo(size: str = "small", seed: int = SEED) -> list[str]:
    """Insert the demo data (call on an empty, migrated database) of ``size``
    (``small`` or ``full``, see the module), with each plugin's part
    (``demo_data`` hook). Returns the summary lines to print."""
    if size not in SIZES:
        raise ValueError(f"unknown demo size {size!r}")
    # The full history ends at the start of this hour: two runs in the same
    # hour build the same rows (the seed makes every other choice).
    end = utcnow().replace(minute=0, second=0, microsecond=0) if size == "full" else utcnow()
    start = end - timedelta(days=demo_history.DAYS) if size == "full" else end
    with jobs.outbox_off():  # nothing of the made-up past is mailed or run, whatever workers are up
        lines = _build(size, seed, start, end)
    # The demo's history is made up: its customers are not mailed about it,
    # and no job of its past waits to fire when the workers start. Mail
    # flows from here on, for what is done in the demo.
    with UnitOfWork() as uow:
        dropped = db.session.execute(delete(OutboxJob)).rowcount
        uow.commit()
    if size == "full":
        lines.append(f"{dropped} mail and jobs of the made-up history dropped (never sent)")
    return lines


def _build(size: str, seed: int, start, end) -> list[str]:
    """People and customers, the plugins' first stage, the tickets, the
    plugins' second stage; the summary lines."""
    app = current_app._get_current_object()
    rng = random.Random(seed)
    with UnitOfWork() as uow:
        customers, people = _people_and_customers()
        _macros(people)
        if size == "full":
            customers += demo_history.customers(rng, len(customers) + 1)
            people["team"] = demo_history.agents({d.code: d for d in db.session.scalars(select(Department))},
                                                  _hash("demo-agent-pass"))
        uow.commit()
    lines = [str(line) for line in plugins().collect(
        "demo_data", only_taking="demo", app=app, demo=DemoPeriod(size, "customers", start, end, seed))]
    if size == "full":
        lines.append(_history(rng, start, end, people, customers))
    else:
        lines += _small_tickets(customers, people)
    lines += [str(line) for line in plugins().collect(
        "demo_data", app=app, demo=DemoPeriod(size, "history", start, end, seed))]
    return lines


def _history(rng, start, end, people, customers) -> str:
    """The full demo's tickets (``service.demo_history``); its summary line."""
    staff_by_dept: dict = {}
    for member in db.session.scalars(select(Staff).where(Staff.role.in_(("agent", "supervisor")))
                                     .order_by(Staff.id)):
        if member.department is not None:
            staff_by_dept.setdefault(member.department.code, []).append(member)
    history = demo_history.History(rng, start, end, people, customers, staff_by_dept)
    counts = history.play(history.plans(), tickets.close_stale_resolved)
    # The periodic auto-close catches up at the real time, not at ``end``:
    # the history ends at the start of the hour, and a ticket resolved in the
    # last minutes of its window would otherwise be overdue as the demo ends.
    tickets.close_stale_resolved()
    return (f"{len(customers)} customers; {counts['tickets']} tickets from {start:%Y-%m-%d} to {end:%Y-%m-%d} "
            f"({counts['steps']} workflow steps, {counts['refused']} refused by a plugin or no longer possible)")


def _small_tickets(customers, people) -> list[str]:
    """The small demo's tickets (``TICKETS``); lines for the steps a plugin refused."""
    agent = Actor.staff(people["agent"])
    supervisor = Actor.staff(people["supervisor"])
    refused = []
    for idx, category, kind, priority, subject, description, path in TICKETS:
        ticket, _ = opening.open_ticket(
            {"customer_id": customers[idx].id, "category": category, "kind": kind, "priority": priority,
             "subject": subject, "description": description}, agent, "web")
        tickets.update_ticket(ticket.number, ticket.version, {"assignee": people["agent"].id}, supervisor)
        for action in path:
            values = {"department": "after_sales", "resolution": "已安排技术人员上门处理并更换配件。",
                      "reason": "客户反馈问题仍然存在" if action == "reopen" else "duplicate of another ticket"}
            actor = supervisor if action == "cancel" else agent
            if action == "wait":
                messages.add_message(ticket.number, "Could you send a photo of the part number?", agent)
            try:
                ticket, _ = tickets.transition(ticket.number, action, ticket.version, values, actor)
            except Refused as exc:  # an installed plugin's guard: the demo goes on without this step
                refused.append(f"{ticket.number}: {action} refused by plugin {exc.plugin} ({exc.message})")
                break
    return refused


def _people_and_customers():
    depts = {}
    for code, name, name_zh in DEPARTMENTS:
        depts[code] = Department(code=code, name=name, name_zh=name_zh)
        db.session.add(depts[code])
    db.session.flush()
    names = {"admin": "Admin 管理员", "supervisor": "Sun Li 孙丽", "agent": "Zhou Jie 周杰", "finance": "Qian Min 钱敏"}
    home = {"finance": "finance"}  # finance staff sit in the finance department
    people = {}
    for email, role, password, token in DEMO_LOGINS:
        people[role] = _staff(email, names[role], role, depts[home.get(role, "after_sales")], password, token)
    depts["after_sales"].supervisor = people["supervisor"]
    for code, dept in depts.items():
        if code != "after_sales":
            dept.supervisor = _staff(f"{code}.lead@kefu.demo", f"{dept.name} lead", "supervisor", dept,
                                     "demo-lead-pass")
    customers = [Customer(external_ref=ref, kind=kind, name=name, email=email, language=lang)
                 for ref, kind, name, email, lang in CUSTOMERS]
    db.session.add_all(customers)
    db.session.flush()
    return customers, people
