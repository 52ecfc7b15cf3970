"""The platform learns what reviewers told the user: the decision's message and the appeal's answer."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests.cases.support import case_ids, seed
from tests.support.enforcement import default_policy
from vigil.appeals import services as appeals
from vigil.cases import services as cases
from vigil.cases.models import Outcome
from vigil.platform import feed
from vigil.unit_of_work import unit_of_work


def test_decision_message_and_appeal_answer_reach_the_platform(
    engine: Engine, tmp_path: Path
) -> None:
    seed(engine, tmp_path, threats=0, harassment=1)
    policy = default_policy()
    (case_id,) = case_ids(engine, "harassment")
    with unit_of_work(engine) as uow:
        decision = cases.decide(
            uow,
            case_id,
            reviewer="alice",
            outcome=Outcome.VIOLATING,
            policy=policy,
            clause="harassment",
            note="NOTE-7Q repeat pattern",
            user_message="Your reply insulted another user.",
        )
        decision_id = decision.id
    with unit_of_work(engine) as uow:
        appeal = appeals.file(
            uow,
            decision_id=decision_id,
            appellant="acct-h0",
            appellant_kind="affected_user",
            reason="it was a joke between friends",
            policy=policy,
        )
    with unit_of_work(engine) as uow:
        appeals.claim(uow, appeal.id, "carol", policy)
        appeals.decide(
            uow,
            appeal.id,
            reviewer="carol",
            outcome="reversed",
            reasoning="Read in context, the reply is banter.",
            policy=policy,
        )
    with Session(engine) as s:
        events = feed.read(s, limit=500).events
    applied = [e for e in events if e.type == "action.applied" and e.data["decision_id"]]
    assert applied
    assert {e.data["message"] for e in applied} == {"Your reply insulted another user."}
    assert all("NOTE-7Q" not in e.body().decode() for e in events)  # the note stays inside
    (answer,) = [e for e in events if e.type == "appeal.decided"]
    assert answer.data["outcome"] == "reversed"
    assert answer.data["appellant"] == "acct-h0"
    assert answer.data["appellant_kind"] == "affected_user"
    assert str(answer.data["answer"]).startswith("Read in context, the reply is banter.")
    assert "out-of-court dispute settlement" in str(answer.data["answer"])
    reversed_ = [e for e in events if e.type == "action.reversed"]
    assert {e.data["appeal_id"] for e in reversed_} == {appeal.id}
