"""Mail from the cockpit lands in the town's store through `gt mail send`'s and `gt mail reply`'s
own functions (work/mail.py): compose, read (marks read) and reply, driven by keys."""

from __future__ import annotations

import asyncio

from gastown_tui.tui.app import CockpitApp
from gastown_tui.tui.modals import ComposeModal
from gastown_tui.tui.source import TownSource
from gastown_tui.work import mail


async def settle(pilot):
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def test_compose_read_and_reply_land_in_the_store(rig_town):
    town = rig_town
    asked = mail.send_mail(town, "overseer", "Which release first?", "0.3 or 0.4?", sender="mayor",
                           nudge=False)[0]["id"]
    app = CockpitApp(TownSource(town), live=False)

    async def main():
        async with app.run_test(size=(160, 50)) as pilot:
            await settle(pilot)
            await pilot.press("m")
            await settle(pilot)
            assert isinstance(app.screen, ComposeModal)
            await pilot.press(*"demo/witness", "tab", *"Patrol faster", "tab", *"every 10 s please")
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert not isinstance(app.screen, ComposeModal)  # sent: the dialog closed

            await pilot.press("4", "enter")  # the overseer's inbox: open the mayor's question
            await settle(pilot)
            await pilot.press("r")
            await settle(pilot)
            assert isinstance(app.screen, ComposeModal) and app.screen.reply_to == asked
            await pilot.press(*"0.3 first")
            await pilot.press("ctrl+s")
            await settle(pilot)

    asyncio.run(main())
    sent = mail.inbox(town, "demo/witness")
    assert [(m["from"], m["subject"], m["body"]) for m in sent] == [("overseer", "Patrol faster", "every 10 s please")]
    assert mail.get_message(town, asked)["read"] is True  # Enter read it
    replies = [m for m in mail.inbox(town, "mayor") if m["reply_to"] == asked]
    assert [(m["from"], m["subject"], m["body"], m["thread_id"]) for m in replies] == \
        [("overseer", "Re: Which release first?", "0.3 first", asked)]
