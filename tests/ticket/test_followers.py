"""Followers and @mentions: follow without owning, a mention makes a follower and reaches the
mentioned agent's running app, followers hear of customer replies and status changes."""

from __future__ import annotations

from typing import Any

from bson import ObjectId
from helpers import QUIET, MakeApp
from pilot import highlight, record_notifications, settle, until

from helpdesk_tui.domain.mentions import handles, resolve, tokens
from helpdesk_tui.domain.models import Status, User
from helpdesk_tui.screens.queue import AgentQueueScreen, QueueScreen
from helpdesk_tui.screens.reply import ReplyScreen
from helpdesk_tui.screens.ticket import TicketScreen
from helpdesk_tui.store.followers import FollowerStore
from helpdesk_tui.store.live import FeedMode
from helpdesk_tui.store.tickets import TicketStore

NUMBER = "TKT-000007"  # Ana's in-progress ticket in the demo data
ANA = "ana@helpdesk.example"
BO = "bo@helpdesk.example"


def user(name: str, email: str) -> User:
    return User.from_mongo({"_id": ObjectId(), "name": name, "email": email, "role": "agent"})


def ticket_id(store: TicketStore) -> ObjectId:
    raw = store.tickets.find_one({"ticketNumber": NUMBER})
    assert raw is not None
    return raw["_id"]


def followers_of(store: TicketStore) -> list[ObjectId]:
    return FollowerStore(store.db).followers(ticket_id(store))


# --- who a mention names ------------------------------------------------------------------


def test_a_mention_names_a_colleague_by_email_name_or_unique_first_name() -> None:
    ana, bo, bob = (
        user("Ana Lima", "ana@x.example"),
        user("Bo Nilsson", "bo@x.example"),
        user("Bo Berg", "bberg@x.example"),
    )
    staff = [ana, bo, bob]
    assert tokens("ping @Ana, and @bo. Mail bo@x.example") == ["ana", "bo"]
    found, unknown = resolve("@ana @bonilsson @bberg @zed", staff)
    assert found == [ana, bo, bob] and unknown == ["zed"]
    # Two colleagues called Bo: "bo" is Bo Nilsson's e-mail name, so it is still his.
    assert resolve("@bo", staff) == ([bo], [])
    assert "ana" in handles(ana, staff) and "bo" not in handles(bob, staff)


def test_follow_is_idempotent_and_unfollow_removes_it(store: TicketStore) -> None:
    followers = FollowerStore(store.db)
    followers.init()
    ticket, agent = ObjectId(), ObjectId()
    assert followers.follow(ticket, agent) is True
    assert followers.follow(ticket, agent) is False
    assert followers.following(agent) == [ticket] and followers.followers(ticket) == [agent]
    assert followers.unfollow(ticket, agent) is True
    assert followers.following(agent) == [] and not followers.is_following(ticket, agent)


# --- in the app ----------------------------------------------------------------------------


async def test_f_follows_the_ticket_and_f_again_unfollows(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    app = make_app(demo_store, BO)
    seen = record_notifications(app)
    bo = demo_store.user_by_email(BO).id
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")  # All open
        await highlight(pilot, NUMBER)
        await pilot.press("f")
        await settle(pilot)
        assert followers_of(demo_store) == [bo]
        assert ticket_id(demo_store) in app.alerts.following
        assert any(m.startswith(f"Following {NUMBER}") for _, _, m in seen)
        # The ticket document itself is untouched by following: no field of ours on it.
        raw = demo_store.tickets.find_one({"ticketNumber": NUMBER})
        assert raw is not None and not {"followers", "following"} & raw.keys()

        await pilot.press("F")
        await settle(pilot)
        following = app.screen
        assert isinstance(following, AgentQueueScreen)
        assert [t.ticket_number for t in following.table.tickets.values()] == [NUMBER]
        await pilot.press("f")  # unfollow from the Following view
        await settle(pilot)
        assert followers_of(demo_store) == []
        assert ticket_id(demo_store) not in app.alerts.following
        assert any(m == f"No longer following {NUMBER}." for _, _, m in seen)


async def test_a_mention_in_a_note_notifies_the_mentioned_agents_running_app(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    """Ana writes "@bo" in a note in her app; Bo's app, open on the same database, hears of
    it from its change stream, and Bo follows the ticket from then on."""
    ana_app = make_app(demo_store, ANA)
    bo_app = make_app(TicketStore(demo_store.db, demo_store.settings, clock=demo_store.clock), BO)
    bo_seen = record_notifications(bo_app)
    bo = demo_store.user_by_email(BO).id
    async with bo_app.run_test(size=(120, 40)) as bo_pilot:
        await settle(bo_pilot)
        assert bo_app.feed.mode is FeedMode.LIVE
        async with ana_app.run_test(size=(120, 40)) as pilot:
            await highlight(pilot, NUMBER)
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(ana_app.screen, TicketScreen)
            await pilot.press("i")
            await settle(pilot)
            assert isinstance(ana_app.screen, ReplyScreen)
            await pilot.press(*"@bo can you check the refund?")
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert not isinstance(ana_app.screen, ReplyScreen)
            await settle(pilot)
            assert followers_of(demo_store) == [bo]

        def mentioned() -> bool:
            return any(t == f"You were mentioned on {NUMBER}" for _, t, _ in bo_seen)

        assert await until(bo_pilot, mentioned, seconds=10)
        assert ticket_id(demo_store) in bo_app.alerts.following


async def test_a_follower_hears_of_customer_replies_and_status_changes(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    raw = demo_store.tickets.find_one({"ticketNumber": NUMBER})
    assert raw is not None
    bo = demo_store.user_by_email(BO).id
    assert bo is not None and raw["assignedTo"] != bo
    FollowerStore(demo_store.db).follow(raw["_id"], bo)
    app = make_app(demo_store, BO)
    seen = record_notifications(app)
    writer = TicketStore(demo_store.db, demo_store.settings, clock=demo_store.clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert await until(pilot, lambda: raw["_id"] in app.alerts.following)
        writer.add_message(raw["_id"], sender=raw["user"], content="Still no refund!")
        assert await until(
            pilot,
            lambda: any(t == f"Customer replied on {NUMBER} (following)" for _, t, _ in seen),
            seconds=10,
        )
        ana = demo_store.user_by_email(ANA).id
        assert ana is not None
        writer.set_status(raw["_id"], Status.WAITING, actor=ana, expected=Status.IN_PROGRESS)
        assert await until(
            pilot,
            lambda: any(t == f"{NUMBER} is now waiting (following)" for _, t, _ in seen),
            seconds=10,
        )


async def test_f_then_F_in_one_burst_opens_following_with_the_ticket_just_followed(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    import time

    from helpdesk_tui.screens.queue import AgentQueueScreen

    app = make_app(demo_store, config=QUIET)
    follow = app.followers.follow

    def slow_follow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.3)  # a slow link: the write is still on its way when `F` reads the list
        return follow(*args, **kwargs)

    app.followers.follow = slow_follow
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        followed = queue.table.current
        assert followed is not None
        await pilot.press("f", "F")
        await settle(pilot)
        following = app.screen
        assert isinstance(following, AgentQueueScreen), following
        assert [t.id for t in following.table.tickets.values()] == [followed.id]
