"""The full demo's history: a few hundred customers and about six months of
tickets, each moved through the real use cases at the time it happened.

``service.demo`` calls ``customers`` (inside its first unit of work) and,
after the plugins' ``customers`` stage, ``tickets``. Every choice comes from
one seeded ``random.Random``, so two runs on the same day build the same
history (the period ends at the real time, so its dates move with the day).

Each ticket's life is planned as a list of steps at moved times (open,
assign, confirm, reply, wait, customer reply, resolve, the customer's
answer, a reopen, a remedy decision ...) and played in order inside
``service.clock.moved_to``; a step planned after the end of the period is
not played, so recent tickets are still open in every status. A step a
plugin's guard refuses ends that ticket's life where it is (counted).
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from service.clock import moved_to
from service.domain.actors import Actor
from service.domain.errors import KefuError
from service.domain.workflow import OPEN_STATUSES, IllegalTransition
from service.extensions import db
from service.models import Customer, Staff
from service.usecases import messages, opening, remedies, tickets

CUSTOMER_COUNT = 300  # with the eight named ones of the small demo
TICKETS_PER_WEEKDAY = 12  # about 1,900 tickets in 26 weeks (and the follow-ups surveys open)
DAYS = 182

ZH_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
ZH_GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英",
            "霞", "平", "刚", "桂英", "建华", "晓东", "志强", "海燕", "雪梅", "子涵", "浩然", "欣怡"]
EN_FIRST = ["Olivia", "Liam", "Emma", "Noah", "Ava", "James", "Sophia", "Lucas", "Mia", "Ethan", "Amelia", "Mason",
            "Harper", "Logan", "Ella", "Jack", "Grace", "Henry", "Chloe", "Owen", "Zoe", "Daniel", "Lily", "Ryan"]
EN_LAST = ["Smith", "Brown", "Wilson", "Taylor", "Clark", "Walker", "Hall", "Young", "King", "Wright", "Green",
           "Baker", "Adams", "Nelson", "Carter", "Mitchell", "Turner", "Parker", "Collins", "Evans", "Morris"]
ZH_CITIES = ["上海", "北京", "深圳", "广州", "杭州", "成都", "南京", "武汉", "苏州", "天津", "重庆", "青岛"]
ZH_TRADES = ["星辰", "华宇", "恒信", "瑞丰", "金桥", "东方", "宏达", "嘉禾", "远航", "博雅", "新世纪", "鼎盛"]
ZH_SUFFIX = ["电器有限公司", "贸易有限公司", "物流有限公司", "科技有限公司", "酒店管理有限公司", "家居有限公司"]
EN_TRADES = ["Northwind", "Bluebay", "Summit", "Evergreen", "Harbor", "Pioneer", "Silverline", "Oakridge",
             "Redwood", "Brightway", "Meridian", "Crescent"]
EN_SUFFIX = ["Trading Ltd", "Hotels Ltd", "Electronics Co", "Logistics Ltd", "Retail Group", "Facilities Ltd"]

# More agents, so that the queues and the per-agent reports have people:
# (email, name, department code)
AGENTS = [
    ("li.na@kefu.demo", "Li Na 李娜", "after_sales"), ("tom.hill@kefu.demo", "Tom Hill", "after_sales"),
    ("chen.hao@kefu.demo", "Chen Hao 陈浩", "technical"), ("amy.ross@kefu.demo", "Amy Ross", "technical"),
    ("wu.lei@kefu.demo", "Wu Lei 吴磊", "logistics"), ("he.jing@kefu.demo", "He Jing 何静", "logistics"),
    ("ma.tao@kefu.demo", "Ma Tao 马涛", "sales"), ("zhao.yan@kefu.demo", "Zhao Yan 赵艳", "finance"),
    ("guo.qiang@kefu.demo", "Guo Qiang 郭强", "quality"), ("sara.lee@kefu.demo", "Sara Lee", "quality"),
]

# category: (weight, department it goes to, [(zh subject, zh text), ...], [(en subject, en text), ...])
CATEGORIES = {
    "slow_delivery": (22, "logistics",
                      [("订单迟迟未送达", "下单十天了还没有收到货，物流信息一直不更新。"),
                       ("送货时间一再推迟", "约好周六送货，结果又改到下周。")],
                      [("Order still not delivered", "Ordered ten days ago and the tracking has not moved."),
                       ("Delivery postponed again", "The delivery slot was moved for the third time.")]),
    "slow_service": (16, "after_sales",
                     [("报修后无人上门", "报修三天了没有师傅联系我。"), ("客服电话打不通", "热线一直占线，留言也没人回。")],
                     [("No technician came", "I reported the fault three days ago and nobody called."),
                      ("Hotline never answers", "The line is always busy and nobody calls back.")]),
    "product_quality": (15, "quality",
                        [("冰箱噪音很大", "新买的冰箱夜里噪音很大，影响睡觉。"), ("洗衣机漏水", "用了两周就开始漏水。")],
                        [("Fridge is very noisy", "The new fridge is loud at night."),
                         ("Washing machine leaks", "It started leaking after two weeks.")]),
    "installer_charges": (10, "after_sales",
                          [("安装师傅额外收费", "师傅要求另付200元材料费。"), ("安装费与说明不符", "官网说免费安装，却收了钱。")],
                          [("Installer asked for extra money", "The installer wanted 200 CNY more for materials."),
                           ("Charged for free installation", "Installation was advertised as free.")]),
    "spare_parts_price": (9, "sales",
                          [("配件太贵", "一个滤网要半台机器的价钱。"), ("维修报价过高", "换个主板报价比新机还贵。")],
                          [("Spare parts far too expensive", "A filter costs half the price of the unit."),
                           ("Repair quote too high", "The board costs more than a new machine.")]),
    "product_complexity": (8, "technical",
                           [("遥控APP不会用", "试了一个小时也没配对成功。"), ("说明书看不懂", "设置定时功能的步骤太复杂。")],
                           [("Cannot set up the app", "I could not pair the app after an hour."),
                            ("Manual is confusing", "Setting the timer takes far too many steps.")]),
    "billing": (10, "finance",
                [("重复扣款", "同一笔订单被扣了两次钱。"), ("退款迟迟未到账", "退货两周了还没收到退款。")],
                [("Charged twice", "The same order was charged twice."),
                 ("Refund not received", "I returned the item two weeks ago and have no refund.")]),
    "other": (10, None,
              [("建议增加微信通知", "邮件通知容易错过。"), ("咨询延保政策", "想了解延长保修怎么购买。")],
              [("Please add WeChat notifications", "E-mail is easy to miss."),
               ("Question about extended warranty", "How do I buy an extended warranty?")]),
}
KINDS = {"complaint": 55, "service_request": 20, "inquiry": 17, "suggestion": 8}
CHANNELS = {"web": 33, "phone": 26, "email": 18, "api": 13, "walk_in": 4, "chat": 4, "fax": 2}
PRIORITIES = {"low": 15, "normal": 55, "high": 22, "urgent": 8}
# Minutes to the first response when on time, by priority (and how late a late one is).
FIRST_RESPONSE = {"urgent": (5, 50), "high": (10, 110), "normal": (15, 360), "low": (30, 900)}
RESOLUTION_HOURS = {"urgent": (2, 20), "high": (4, 40), "normal": (6, 90), "low": (8, 150)}

REPLIES = {"zh": ["您好，已收到您的问题，我们正在处理。", "已联系相关部门，预计两天内给您答复。"],
           "en": ["Thank you, we have your case and are on it.", "We contacted the team and will answer within two days."]}
ASK = {"zh": "请提供一下产品序列号和购买凭证的照片。", "en": "Could you send a photo of the serial number and receipt?"}
CUSTOMER_REPLY = {"zh": "照片已上传，请查收。", "en": "Here are the photos you asked for."}
RESOLUTIONS = {"zh": ["已安排师傅上门更换配件。", "已退款至原支付账户。", "已重新发货并补偿运费。", "已电话指导完成设置。"],
               "en": ["A technician replaced the part on site.", "Refunded to the original payment method.",
                      "Shipped again and refunded the delivery fee.", "Walked the customer through the setup."]}
REMEDIES = [("退款", 30_000), ("更换新机", 250_000), ("补偿运费", 5_000), ("上门维修后付款", 80_000),
            ("refund", 60_000), ("replacement unit", 420_000), ("store credit", 20_000)]


def _pick(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _business_time(rng: random.Random, day: datetime) -> datetime:
    """A time on ``day`` (UTC midnight), mostly in China's office hours (UTC+8)."""
    hour = rng.choices([rng.randint(0, 9), rng.randint(10, 13), rng.randint(14, 23)], weights=[78, 12, 10])[0]
    return day + timedelta(hours=hour, minutes=rng.randint(0, 59))


def customers(rng: random.Random, first_number: int) -> list[Customer]:
    """Customers ``C-<first_number>`` ... up to ``CUSTOMER_COUNT`` in all:
    persons and companies, Chinese and English names and languages, an
    e-mail, a phone or both (most have no e-mail: the demo mails nobody)."""
    out = []
    for n in range(first_number, CUSTOMER_COUNT + 1):
        zh = rng.random() < 0.65
        company = rng.random() < 0.3
        if company:
            name = (f"{rng.choice(ZH_CITIES)}{rng.choice(ZH_TRADES)}{rng.choice(ZH_SUFFIX)}" if zh
                    else f"{rng.choice(EN_TRADES)} {rng.choice(EN_SUFFIX)}")
        else:
            name = (f"{rng.choice(ZH_SURNAMES)}{rng.choice(ZH_GIVEN)}" if zh
                    else f"{rng.choice(EN_FIRST)} {rng.choice(EN_LAST)}")
        contact = rng.choices(["email", "phone", "both"], weights=[30, 55, 15])[0]
        email = f"c{n:04d}@customers.demo" if contact in ("email", "both") else None
        phone = f"+86 1{rng.randint(30, 89)} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}" \
            if contact in ("phone", "both") else None
        out.append(Customer(external_ref=f"C-{n:04d}", kind="company" if company else "person", name=name,
                            email=email, phone=phone, language="zh_CN" if zh else "en"))
    db.session.add_all(out)
    db.session.flush()
    return out


def agents(depts: dict, password: str) -> list[Staff]:
    """The extra agents of ``AGENTS`` (no API token), with the console
    password hash ``password`` (the demo agent's)."""
    out = [Staff(email=email, name=name, role="agent", department=depts[code], password_hash=password)
           for email, name, code in AGENTS]
    db.session.add_all(out)
    db.session.flush()
    return out


@dataclass(order=True)
class Step:
    """One thing that happens to a ticket at ``at``."""

    at: datetime
    action: str = field(compare=False)
    values: dict = field(default_factory=dict, compare=False)


@dataclass
class Plan:
    """A ticket to open at ``at`` and the steps of its life."""

    at: datetime
    data: dict
    channel: str
    customer: Customer
    team: list
    lang: str
    steps: list[Step] = field(default_factory=list)


class History:
    """Plans and plays the tickets of ``start`` ... ``end`` (see the module)."""

    def __init__(self, rng: random.Random, start: datetime, end: datetime, people: dict, customers_: list,
                 staff_by_dept: dict):
        self.rng, self.start, self.end = rng, start, end
        self.people, self.customers, self.staff_by_dept = people, customers_, staff_by_dept
        # A few customers write often, most rarely (a long tail).
        self.weights = [rng.paretovariate(1.4) for _ in customers_]
        self.counts = {"tickets": 0, "steps": 0, "refused": 0, "not_yet": 0}

    # ------------------------------------------------------------------ planning

    def plans(self) -> list[Plan]:
        """Every ticket of the period, in the order they are opened."""
        rng, out = self.rng, []
        day = self.start.replace(hour=0, minute=0, second=0, microsecond=0)
        while day < self.end:
            weekend = day.weekday() >= 5
            growth = 0.8 + 0.4 * (day - self.start).days / DAYS  # business grows over the half year
            for _ in range(max(0, round(rng.gauss(TICKETS_PER_WEEKDAY * growth * (0.45 if weekend else 1), 2.5)))):
                at = _business_time(rng, day)
                if self.start <= at < self.end:
                    out.append(self._plan(at))
            day += timedelta(days=1)
        out.sort(key=lambda p: p.at)
        return out

    def _plan(self, at: datetime) -> Plan:
        rng = self.rng
        customer = rng.choices(self.customers, weights=self.weights)[0]
        lang = "zh" if customer.language == "zh_CN" else "en"
        category = rng.choices(list(CATEGORIES), weights=[c[0] for c in CATEGORIES.values()])[0]
        _weight, dept, zh_texts, en_texts = CATEGORIES[category]
        dept = dept or rng.choice(list(self.staff_by_dept))
        subject, description = rng.choice(zh_texts if lang == "zh" else en_texts)
        kind = _pick(rng, KINDS)
        priority = _pick(rng, PRIORITIES)
        data = {"customer_id": customer.id, "category": category, "kind": kind, "priority": priority,
                "subject": subject, "description": description}
        if kind == "complaint" and category in ("product_quality", "billing", "slow_delivery", "installer_charges") \
                and rng.random() < 0.3:
            text, amount = rng.choice(REMEDIES)
            data["remedy"] = {"text": text, "amount_minor": amount, "currency": "CNY"}
        plan = Plan(at, data, _pick(rng, CHANNELS), customer, self.staff_by_dept[dept], lang)
        self._life(plan, dept)
        return plan

    def _life(self, plan: Plan, dept: str) -> None:
        rng, at, add = self.rng, plan.at, plan.steps.append
        priority = plan.data["priority"]
        if "remedy" in plan.data:
            add(Step(at + timedelta(hours=rng.uniform(4, 40)), "decide_remedy",
                     {"decision": "approved" if rng.random() < 0.75 else "refused"}))
        if rng.random() < 0.04:  # a duplicate, cancelled by a supervisor
            add(Step(at + timedelta(minutes=rng.randint(20, 600)), "cancel"))
            return
        # A few are forgotten, still open long after (the queues' old work, SLA missed) in any open status.
        stalled = rng.choice(OPEN_STATUSES) if rng.random() < 0.04 else None
        if stalled == "new":
            return
        assignee = rng.choice(plan.team)
        if plan.channel in ("email", "api"):  # routed as they arrive: department and agent set at opening
            plan.data.update(department=dept, assignee=assignee.id)
        elif rng.random() < 0.9:  # a few wait unassigned until the agent confirming takes them
            add(Step(at + timedelta(minutes=rng.randint(2, 40)), "assign", {"assignee": assignee}))
        low, high = FIRST_RESPONSE[priority]
        late = rng.random() < 0.18
        confirm = at + timedelta(minutes=rng.randint(low, high)) + (
            timedelta(hours=rng.uniform(8, 60)) if late else timedelta())
        add(Step(confirm, "confirm", {"department": dept, "assignee": assignee}))
        if stalled == "confirmed":
            return
        start = confirm + timedelta(minutes=rng.randint(5, 180))
        add(Step(start, "start"))
        t = start + timedelta(minutes=rng.randint(10, 240))
        if rng.random() < 0.55:
            add(Step(t, "reply", {"body": rng.choice(REPLIES[plan.lang])}))
        if rng.random() < 0.25 or stalled == "waiting_on_customer":
            t += timedelta(minutes=rng.randint(10, 120))
            add(Step(t, "wait", {"body": ASK[plan.lang]}))
            if stalled:
                return
            t += timedelta(hours=rng.uniform(2, 72))
            add(Step(t, "customer_reply", {"body": CUSTOMER_REPLY[plan.lang]}))
        if stalled:
            return
        lo, hi = RESOLUTION_HOURS[priority]
        resolved = max(t, at + timedelta(hours=rng.uniform(lo, hi) * (rng.uniform(2, 4) if rng.random() < 0.15 else 1)))
        resolved += timedelta(minutes=rng.randint(5, 60))
        add(Step(resolved, "resolve", {"resolution": rng.choice(RESOLUTIONS[plan.lang])}))
        answer = rng.random()
        if answer < 0.45:  # the customer accepts on the tracking page
            add(Step(resolved + timedelta(hours=rng.uniform(1, 48)), "accept"))
        elif answer < 0.53:  # rejected: reopened, solved again, then closed by the agent
            again = resolved + timedelta(hours=rng.uniform(2, 48))
            add(Step(again, "reject", {"reason": "问题仍然存在" if plan.lang == "zh" else "Still not working"}))
            add(Step(again + timedelta(hours=rng.uniform(4, 60)), "resolve",
                     {"resolution": rng.choice(RESOLUTIONS[plan.lang])}))
            add(Step(again + timedelta(hours=rng.uniform(70, 120)), "close"))
        # else: nobody answers; tickets.autoclose closes it after AUTO_CLOSE_DAYS

    # ------------------------------------------------------------------ playing

    def play(self, plans: list[Plan], autoclose) -> dict:
        """Open and move each planned ticket at its times; ``autoclose()``
        (the periodic job's use case) runs at 01:00 of each day of the
        period, before that day's first ticket. Returns the counts."""
        day = None
        for plan in plans:
            if plan.at.date() != day:
                day = plan.at.date()
                with moved_to(datetime.combine(day, datetime.min.time(), tzinfo=plan.at.tzinfo) + timedelta(hours=1)):
                    autoclose()
            self._play(plan)
        return self.counts

    def _play(self, plan: Plan) -> None:
        # The front line takes calls, visits, chats, faxes and web forms; e-mail and API tickets land with the team.
        opener = self.people["agent"] if plan.channel not in ("email", "api") else self.rng.choice(plan.team)
        with moved_to(plan.at):
            ticket, _token = opening.open_ticket(dict(plan.data), Actor.staff(opener), plan.channel)
        self.counts["tickets"] += 1
        for step in sorted(plan.steps):
            if step.at >= self.end:
                self.counts["not_yet"] += 1
                break
            try:
                with moved_to(step.at):
                    ticket = self._step(ticket, step, plan) or ticket
                self.counts["steps"] += 1
            except (KefuError, IllegalTransition):  # a guard refused, or the step no longer applies: the life ends here
                self.counts["refused"] += 1
                if step.action != "decide_remedy":
                    break

    def _step(self, ticket, step: Step, plan: Plan):
        supervisor = Actor.staff(self.people["supervisor"])
        action, values = step.action, step.values
        worker = Actor.staff(ticket.assignee or values.get("assignee") or plan.team[0])
        if action == "assign":
            return tickets.update_ticket(ticket, ticket.version, {"assignee": values["assignee"].id}, supervisor)
        if action == "confirm":
            if ticket.assignee_id is None:
                ticket = tickets.update_ticket(ticket, ticket.version, {"assignee": values["assignee"].id}, supervisor)
            return tickets.transition(ticket, "confirm", ticket.version, {"department": values["department"]},
                                      Actor.staff(ticket.assignee))[0]
        if action in ("start", "wait", "resolve", "close"):
            if action == "wait":
                messages.add_message(ticket, values["body"], worker)
            return tickets.transition(ticket, action, ticket.version,
                                      {k: v for k, v in values.items() if k != "body"}, worker)[0]
        if action == "cancel":
            return tickets.transition(ticket, "cancel", ticket.version,
                                      {"reason": "duplicate of another ticket"}, supervisor)[0]
        if action == "reply":
            messages.add_message(ticket, values["body"], worker)
            return None
        if action == "customer_reply":
            messages.add_message(ticket, values["body"], Actor.customer(plan.customer))
            return None
        if action in ("accept", "reject"):
            tickets.answer_resolution(ticket, action == "accept", values.get("reason"), Actor.customer(plan.customer))
            return None
        if action == "decide_remedy":
            if ticket.remedy_decision != "needs_approval":
                return None
            approver = self.people["finance"] if ticket.remedy_approver == "finance" else self.people["supervisor"]
            reason = "符合补偿政策" if values["decision"] == "approved" else "不在保修范围内"
            return remedies.decide_remedy(ticket.number, values["decision"], reason, ticket.version, approver)
        raise ValueError(f"unknown demo step {action!r}")

