"""The SQL behind the builtin measures: one ``INSERT ... SELECT`` that
writes every signal's value for a range of customers into the recompute's
temporary table, the same on SQLite and PostgreSQL.

Built per run from the signals in force (``catalog.in_force``): windows,
thresholds and rule numbers are bound parameters; the only text put into
the statement is the code's own (column numbers, fixed fragments), never a
setting's or a plugin's value. See ``signals`` for what each measure means.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

TMP = "health_recompute_tmp"
EXT = "health_recompute_ext"
TX = "health_recompute_tx"  # each customer's transactions, aggregated once per run
OPS = {">=": ">=", ">": ">", "<=": "<=", "<": "<", "==": "=", "!=": "<>"}
# The contact data whose changes count; compared with what the last recompute saw.
CONTACT = "COALESCE(c.email, '') || '|' || COALESCE(c.phone, '')"
# A purchase: a sale of a positive amount (a credit note is a sale with a
# negative one). Silence, usual intervals and the share of returns count
# purchases; revenue sums every sale, credit notes included, as tiers do.
PURCHASE = "(t.type = 'sale' AND t.amount_minor > 0)"


def days_between(later: str, earlier: str, pg: bool) -> str:
    """SQL for the whole days from date ``earlier`` to date ``later``."""
    if pg:
        return f"({later} - {earlier})"
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


@dataclass
class Built:
    """A statement's text and its parameters."""

    sql: str
    params: dict = field(default_factory=dict)
    prepare: list = field(default_factory=list)  # statements to run once per recompute, before the ranges


def _survey_class_sql(rules, params: dict) -> str:
    """The satisfaction class as a CASE over the survey metrics, from the
    survey plugin's rules (first match wins), parameters bound."""
    metric = {
        "answers": "COALESCE(sv.answers, 0)", "good_answers": "COALESCE(sv.good, 0)",
        "bad_answers": "COALESCE(sv.bad, 0)", "last_bad": "COALESCE(sl.last_bad, 0)",
        "avg_rating": "(CASE WHEN COALESCE(sv.answers, 0) > 0 THEN sv.rating_sum * 1.0 / sv.answers ELSE 0 END)",
        "complaints": "COALESCE(tk.s_complaints, 0)", "tickets": "COALESCE(tk.s_tickets, 0)",
        "open_recoveries": "COALESCE(rc.open_recoveries, 0)",
    }
    whens = []
    for i, rule in enumerate(rules):
        conds = []
        for j, (name, op, number) in enumerate(rule["when"]):
            params[f"rule_{i}_{j}"] = number
            conds.append(f"{metric[name]} {OPS[op]} :rule_{i}_{j}")
        params[f"rule_{i}"] = rule["class"]
        whens.append(f"WHEN {' AND '.join(conds)} THEN :rule_{i}")
    return f"(CASE {' '.join(whens)} ELSE NULL END)" if whens else "NULL"


def values_insert(signals, now: datetime, settings, tier, survey, pg: bool, open_statuses) -> Built:
    """``INSERT INTO TMP``: every signal's value (``v_i``) and points
    (``p_i``), the score and the level, for the customers with ids from
    ``:lo`` to ``:hi`` (not merged away). ``tier`` / ``survey``: the other plugins' settings, or None when
    they are off (their measures then have no value). Hook signals' values
    come from ``EXT``, filled before."""
    today = now.date()
    p: dict = {"now": now, "today": today, "single": settings.single_sale_interval_days}
    tx_cols, tk_cols, cc_cols, exprs = [], [], [], []
    need_tx = need_tk = False
    survey_since = None
    for i, s in enumerate(signals):
        w = s.window_days
        if s.measure is None:  # an integrator's: filled into EXT by its query
            exprs.append(f"(SELECT e.value FROM {EXT} e WHERE e.customer_id = c.id AND e.signal = :ext_{i})")
            p[f"ext_{i}"] = s.name
        elif s.measure == "recency":
            if tier is None:
                exprs.append("NULL")
                continue
            need_tx = True
            since_last = days_between(":today", "tx.last_sale", pg)
            span = days_between("tx.last_sale", "tx.first_sale", pg)
            exprs.append(
                f"(CASE WHEN COALESCE(tx.sales_n, 0) = 0 THEN NULL ELSE ROUND({since_last} * 1.0 / "
                f"(CASE WHEN tx.sales_n >= 2 AND {span} >= tx.sales_n - 1 THEN {span} * 1.0 / (tx.sales_n - 1) "
                f"WHEN tx.sales_n >= 2 THEN 1 ELSE :single END), 2) END)")
        elif s.measure == "revenue_drop":
            if tier is None:
                exprs.append("NULL")
                continue
            need_tx = True
            p[f"cur_{i}"], p[f"prev_{i}"] = today - timedelta(days=w), today - timedelta(days=2 * w)
            sale = "t.type = 'sale' AND t.currency = :currency"
            tx_cols += [f"SUM(CASE WHEN {sale} AND t.occurred_on > :cur_{i} THEN t.amount_minor ELSE 0 END) "
                        f"AS rev_cur_{i}",
                        f"SUM(CASE WHEN {sale} AND t.occurred_on > :prev_{i} AND t.occurred_on <= :cur_{i} "
                        f"THEN t.amount_minor ELSE 0 END) AS rev_prev_{i}",
                        f"COUNT(CASE WHEN {PURCHASE} AND t.occurred_on <= :cur_{i} THEN 1 END) AS before_{i}"]
            # Nothing (or less than nothing) bought in the window after buying
            # before it is a 100 % fall, whatever the window before held: so
            # a longer silence never turns a fall into no fall.
            exprs.append(
                f"(CASE WHEN COALESCE(tx.rev_cur_{i}, 0) <= 0 AND COALESCE(tx.before_{i}, 0) > 0 THEN 100 "
                f"WHEN COALESCE(tx.rev_prev_{i}, 0) > 0 AND tx.rev_cur_{i} < tx.rev_prev_{i} "
                f"THEN ROUND((tx.rev_prev_{i} - tx.rev_cur_{i}) * 100.0 / tx.rev_prev_{i}, 2) ELSE 0 END)")
        elif s.measure == "returns_share":
            if tier is None:
                exprs.append("NULL")
                continue
            need_tx = True
            p[f"rcur_{i}"] = today - timedelta(days=w)
            tx_cols += [f"COUNT(CASE WHEN t.type <> 'sale' AND t.occurred_on > :rcur_{i} THEN 1 END) AS ret_{i}",
                        f"COUNT(CASE WHEN {PURCHASE} AND t.occurred_on > :rcur_{i} THEN 1 END) AS sal_{i}"]
            # Over the sales in the same window, at least one: more returns
            # always raise the share, and no sale never divides by zero.
            exprs.append(f"(CASE WHEN COALESCE(tx.ret_{i}, 0) = 0 THEN 0 ELSE ROUND(tx.ret_{i} * 100.0 / "
                         f"(CASE WHEN tx.sal_{i} > 0 THEN tx.sal_{i} ELSE 1 END), 2) END)")
        elif s.measure == "complaints":
            need_tk = True
            p[f"csince_{i}"] = now - timedelta(days=w)
            tk_cols.append(f"COUNT(CASE WHEN k.kind = 'complaint' AND k.created_at >= :csince_{i} THEN 1 END) "
                           f"AS complaints_{i}")
            exprs.append(f"COALESCE(tk.complaints_{i}, 0)")
        elif s.measure == "sla_overdue":
            need_tk = True
            if "overdue" not in " ".join(tk_cols):
                names = ", ".join(f":open_{n}" for n in range(len(open_statuses)))
                p.update({f"open_{n}": status for n, status in enumerate(open_statuses)})
                tk_cols.append(f"COUNT(CASE WHEN k.status IN ({names}) AND k.resolution_due < :now THEN 1 END) "
                               "AS overdue")
            exprs.append("COALESCE(tk.overdue, 0)")
        elif s.measure == "contact_changes":
            p[f"ccsince_{i}"] = now - timedelta(days=w)
            cc_cols.append(f"COUNT(CASE WHEN cc.at >= :ccsince_{i} THEN 1 END) AS changes_{i}")
            exprs.append(f"COALESCE(cc.changes_{i}, 0)")
        elif s.measure == "unhappy":
            if survey is None:
                exprs.append("NULL")
                continue
            need_tk = True
            if survey_since is None:
                # One window for the class: the signal's, by default the
                # survey plugin's own (catalog.window_of).
                survey_since = now - timedelta(days=w or survey.class_window_days)
                p["ssince"] = survey_since
                tk_cols += ["COUNT(CASE WHEN k.kind = 'complaint' AND k.created_at >= :ssince THEN 1 END) "
                            "AS s_complaints",
                            "COUNT(CASE WHEN k.created_at >= :ssince THEN 1 END) AS s_tickets"]
                cls = _survey_class_sql(survey.class_rules, p)
                p["complaining"], p["lost"] = "complaining", "lost"
                unhappy = f"(CASE WHEN {cls} IN (:complaining, :lost) OR COALESCE(sl.last_unsolved, 0) = 1 " \
                          "THEN 1 ELSE 0 END)"
            exprs.append(unhappy)
    if tier is not None:
        p["currency"] = tier.currency
    froms = []
    prepare = []
    if need_tx:
        cols = ", ".join([f"COUNT(CASE WHEN {PURCHASE} THEN 1 END) AS sales_n",
                          f"MIN(CASE WHEN {PURCHASE} THEN t.occurred_on END) AS first_sale",
                          f"MAX(CASE WHEN {PURCHASE} THEN t.occurred_on END) AS last_sale", *tx_cols])
        # Once per run, in one pass over the whole table (a sequential scan
        # and one aggregate): read by ranges instead, each range would fetch
        # a heap page per transaction wherever the visibility map is not
        # current - most of the table after a day of inserts.
        prepare = [f"CREATE TEMP TABLE {TX}{' ON COMMIT DROP' if pg else ''} AS SELECT t.customer_id, {cols} "
                   "FROM tier_transactions t GROUP BY t.customer_id",
                   f"CREATE INDEX ix_{TX} ON {TX} (customer_id)", f"ANALYZE {TX}"]
        froms.append(f"LEFT JOIN {TX} tx ON tx.customer_id = c.id AND tx.customer_id BETWEEN :lo AND :hi")
    if need_tk:
        froms.append(f"LEFT JOIN (SELECT k.customer_id, {', '.join(tk_cols)} FROM tickets k "
                     "WHERE k.customer_id BETWEEN :lo AND :hi GROUP BY k.customer_id) tk ON tk.customer_id = c.id")
    if cc_cols:
        froms.append(f"LEFT JOIN (SELECT cc.customer_id, {', '.join(cc_cols)} FROM customer_contact_changes cc "
                     "WHERE cc.customer_id BETWEEN :lo AND :hi GROUP BY cc.customer_id) cc "
                     "ON cc.customer_id = c.id")
    if survey_since is not None:
        bad = "(NOT COALESCE(s.solved, FALSE) OR s.rating <= 2)"
        answered = "s.status = 'answered' AND s.answered_at >= :ssince AND s.customer_id BETWEEN :lo AND :hi"
        froms.append(f"LEFT JOIN (SELECT s.customer_id, COUNT(*) AS answers, "
                     f"COUNT(CASE WHEN s.solved = TRUE AND s.rating >= 4 THEN 1 END) AS good, "
                     f"COUNT(CASE WHEN {bad} THEN 1 END) AS bad, SUM(s.rating) AS rating_sum "
                     f"FROM surveys s WHERE {answered} GROUP BY s.customer_id) sv ON sv.customer_id = c.id")
        froms.append(f"LEFT JOIN (SELECT x.customer_id, x.last_bad, x.last_unsolved FROM (SELECT s.customer_id, "
                     f"CASE WHEN {bad} THEN 1 ELSE 0 END AS last_bad, "
                     f"CASE WHEN s.solved = FALSE THEN 1 ELSE 0 END AS last_unsolved, "
                     f"ROW_NUMBER() OVER (PARTITION BY s.customer_id ORDER BY s.answered_at DESC, s.id DESC) AS n "
                     f"FROM surveys s WHERE {answered}) x WHERE x.n = 1) sl ON sl.customer_id = c.id")
        froms.append("LEFT JOIN (SELECT k.customer_id, COUNT(*) AS open_recoveries FROM survey_recoveries r "
                     "JOIN tickets k ON k.id = r.ticket_id WHERE r.recovered_at IS NULL "
                     "AND k.customer_id BETWEEN :lo AND :hi GROUP BY k.customer_id) rc ON rc.customer_id = c.id")
    # Values innermost, then each signal's points, then the score and level:
    # one statement writes the whole row (no UPDATE passes over the table).
    values = ", ".join(f"{e} AS v_{i}" for i, e in enumerate(exprs))
    inner = (f"SELECT c.id AS customer_id, {CONTACT} AS contact, {values} FROM customers c {' '.join(froms)} "
             "WHERE c.id BETWEEN :lo AND :hi AND c.merged_into_id IS NULL")
    pts = []
    for i, s in enumerate(signals):
        p[f"thr_{i}"], p[f"pts_{i}"] = s.threshold, s.points
        pts.append(f"CASE WHEN x.v_{i} {s.comparison} :thr_{i} THEN :pts_{i} ELSE 0 END AS p_{i}")
    n = range(len(signals))
    scored = f"SELECT x.*, {', '.join(pts)} FROM ({inner}) x"
    score = " + ".join(f"y.p_{i}" for i in n) or "0"
    p["at_risk"], p["watch"] = settings.at_risk_from, settings.watch_from
    cols = [*(f"v_{i}" for i in n), *(f"p_{i}" for i in n)]
    sql = (f"INSERT INTO {TMP} (customer_id, contact, {', '.join(cols)}, score, level) "
           f"SELECT y.customer_id, y.contact, {', '.join('y.' + c for c in cols)}, {score}, "
           f"CASE WHEN {score} >= :at_risk THEN 'at_risk' WHEN {score} >= :watch THEN 'watch' ELSE 'healthy' END "
           f"FROM ({scored}) y")
    return Built(sql, p, prepare)


def create_tmp(signals, pg: bool) -> str:
    """The temporary table of one chunk (dropped when its transaction ends on PostgreSQL)."""
    cols = ", ".join(f"v_{i} DOUBLE PRECISION, p_{i} INTEGER" for i in range(len(signals)))
    return (f"CREATE TEMP TABLE {TMP} (customer_id INTEGER PRIMARY KEY, contact TEXT, {cols}, "
            "score INTEGER, level VARCHAR(12))" + (" ON COMMIT DROP" if pg else ""))


def create_ext(pg: bool) -> str:
    """The temporary table of the hook signals' values."""
    return (f"CREATE TEMP TABLE {EXT} (customer_id INTEGER NOT NULL, signal VARCHAR(40) NOT NULL, "
            "value DOUBLE PRECISION)" + (" ON COMMIT DROP" if pg else ""))


def json_object(pairs: list[tuple[str, str]], pg: bool) -> tuple[str, dict]:
    """SQL building a JSON object from ``(name, SQL expression)`` pairs; names bound."""
    fn = "json_build_object" if pg else "json_object"
    params = {f"key_{i}": name for i, (name, _) in enumerate(pairs)}
    args = ", ".join(f"CAST(:key_{i} AS TEXT), {expr}" for i, (_, expr) in enumerate(pairs))
    return f"{fn}({args})", params
