"""The campaign builder in a browser: build a branching campaign by drag and drop, see an
illegal connection refused with its reason, save, publish, run it with the CLI and watch the
counts arrive on the nodes."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import ROOT, Server, _trellis_command
from tests.e2e.helpers import api_client, log_in

SHOTS = os.environ.get("TRELLIS_E2E_SHOTS")


def _shot(page: Page, name: str) -> None:
    """Screenshots for the docs, when TRELLIS_E2E_SHOTS names a folder."""
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"))


def _canvas(page: Page) -> Locator:
    return page.get_by_role("region", name="Campaign canvas", exact=True)


def _node(page: Page, title: str) -> Locator:
    return page.locator(".react-flow__node").filter(
        has=page.locator(".trellis-node__title", has_text=re.compile(f"^{re.escape(title)}$"))
    )


def _drop(page: Page, step_type: str, x: float, y: float) -> None:
    """Drag a step type from the palette onto the canvas at (x, y) of the canvas box."""
    pane = _canvas(page).locator(".react-flow__pane")
    page.locator(f'.trellis-cb__palette button[data-step-type="{step_type}"]').drag_to(
        pane, target_position={"x": x, "y": y}
    )


def _connect(page: Page, source: Locator, output: str, target: Locator) -> None:
    """Drag from an output handle of `source` to the input handle of `target`."""
    start = source.locator(f'.react-flow__handle[data-handleid="{output}"]').bounding_box()
    end = target.locator('.react-flow__handle[data-handleid="in"]').bounding_box()
    assert start
    assert end
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] - 20, steps=8)
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=4)
    page.mouse.up()


def _tidy(page: Page) -> None:
    page.get_by_role("button", name="Tidy up").click()
    page.wait_for_timeout(300)


def _rename(page: Page, node: Locator, name: str) -> Locator:
    node.click(position={"x": 20, "y": 10})
    panel = page.get_by_role("complementary", name="Step settings")
    panel.get_by_label("Name (optional)").fill(name)
    return panel


def _trigger(server: Server, now: datetime, campaign_id: int) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRELLIS_")}
    # The server of the e2e fixture keeps its data (SQLite) next to its log.
    env["TRELLIS_DATA_DIR"] = str(server.log.parent)
    if os.environ.get("TRELLIS_DATABASE__URL"):
        env["TRELLIS_DATABASE__URL"] = os.environ["TRELLIS_DATABASE__URL"]
    result = subprocess.run(
        [
            *_trellis_command(),
            "campaigns",
            "trigger",
            "--campaign",
            str(campaign_id),
            "--now",
            now.isoformat(),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


# A whole journey through a browser and two CLI runs: more than the suite's default 120 s on a
# busy machine.
@pytest.mark.timeout(600)
def test_build_publish_run_and_watch(page: Page, base_url: str, trellis_server: Server) -> None:
    tag = f"b{secrets.token_hex(3)}"
    client = api_client(base_url)
    try:
        for i, city in enumerate(["Paris", "Paris", "Lyon"]):
            response = client.post(
                "/api/v2/contacts",
                json={"email": f"{tag}-{i}@example.com", "last_name": tag, "city": city},
            )
            assert response.status_code == 201, response.text
        response = client.post(
            "/api/v2/segments",
            json={
                "name": f"Audience {tag}",
                "filters": {
                    "match": "all",
                    "conditions": [
                        {"type": "field", "field": "last_name", "operator": "=", "value": tag}
                    ],
                },
            },
        )
        assert response.status_code == 201, response.text
        segment_id = response.json()["id"]
        rebuilt = client.post(f"/api/v2/segments/{segment_id}/rebuild")
        assert rebuilt.status_code < 300, rebuilt.text
    finally:
        client.close()

    log_in(page)
    page.goto("/campaigns/new")
    canvas = _canvas(page)
    expect(canvas).to_be_visible()
    settings = page.get_by_role("complementary", name="Campaign settings")
    settings.get_by_label("Name", exact=True).fill(f"Welcome {tag}")
    settings.get_by_role("button", name="Add a segment").click()
    settings.get_by_label("Segment", exact=True).select_option(label=f"Audience {tag}")
    sources = page.locator(".react-flow__node-sources")
    expect(sources).to_contain_text(f"Audience {tag}")
    expect(sources).to_contain_text("live audience")

    # Segment source -> condition.
    _drop(page, "contact.field_value", 240, 260)
    condition = _node(page, "Field value")
    expect(condition).to_be_visible()
    expect(condition).to_contain_text("This step is not connected to anything.")
    _connect(page, sources, "out", condition)
    expect(condition).not_to_contain_text("not connected")
    panel = _rename(page, condition, "Lives in Paris?")
    panel.get_by_role("combobox", name="Field").fill("city")
    page.get_by_role("option", name=re.compile(r"\(city\)")).first.click()
    panel.get_by_label("Operator").fill("=")
    panel.get_by_label("Value (optional)").fill("Paris")
    condition = _node(page, "Lives in Paris?")

    # Yes -> an action; no -> a decision. Each new step is dropped, then "Tidy up" lays the
    # campaign out (the loose step to the right) and fits it in view.
    _drop(page, "contact.change_points", 60, 60)
    _tidy(page)
    scored = _node(page, "Change points")
    _connect(page, condition, "yes", scored)
    panel = _rename(page, scored, "Score Parisians")
    panel.get_by_label("Delta").fill("5")
    scored = _node(page, "Score Parisians")

    _drop(page, "contact.performs_event", 60, 60)
    _tidy(page)
    decision = _node(page, "Contact performs event")
    _connect(page, condition, "no", decision)
    panel = _rename(page, decision, "Starts a trial?")
    panel.get_by_label("Name", exact=True).fill("trial_started")
    decision = _node(page, "Starts a trial?")

    # A decision right under a decision is refused on the spot, with the reason.
    _drop(page, "contact.performs_event", 60, 60)
    _tidy(page)
    second = _node(page, "Contact performs event")
    _connect(page, decision, "yes", second)
    refusal = canvas.get_by_role("alert")
    expect(refusal).to_contain_text("A decision cannot follow a decision directly")
    expect(page.locator(".react-flow__edge")).to_have_count(3)
    second.click(position={"x": 20, "y": 10})
    page.keyboard.press("Delete")
    expect(second).to_have_count(0)

    # The decision's no path: the step gets a delay, the time the contact has to act.
    _drop(page, "contact.change_tags", 60, 60)
    _tidy(page)
    late = _node(page, "Change tags")
    _connect(page, decision, "no", late)
    panel = _rename(page, late, "Tag the undecided")
    panel.get_by_role("combobox", name="Add (optional)").fill("undecided")
    page.get_by_role("option", name=re.compile("undecided")).first.click()
    page.keyboard.press("Escape")
    expect(
        canvas.locator(".react-flow__edge-text", has_text=re.compile("^within 1 day$"))
    ).to_be_visible()
    panel.get_by_label("Within", exact=True).fill("2")
    expect(
        canvas.locator(".react-flow__edge-text", has_text=re.compile("^within 2 days$"))
    ).to_be_visible()
    _tidy(page)

    # Undo the tidy-up and the delay change, then redo both.
    page.locator(".react-flow__pane").click(position={"x": 5, "y": 5})
    page.keyboard.press("Control+z")
    expect(
        canvas.locator(".react-flow__edge-text", has_text=re.compile("^within 2 days$"))
    ).to_be_visible()
    page.keyboard.press("Control+z")
    expect(
        canvas.locator(".react-flow__edge-text", has_text=re.compile("^within 1 day$"))
    ).to_be_visible()
    page.keyboard.press("Control+Shift+z")
    page.keyboard.press("Control+Shift+z")
    expect(
        canvas.locator(".react-flow__edge-text", has_text=re.compile("^within 2 days$"))
    ).to_be_visible()
    _shot(page, "builder")

    page.get_by_role("button", name="Validate").click()
    expect(page.get_by_text("No problems found.")).to_be_visible()
    page.get_by_role("button", name="Save draft").click()
    expect(page).to_have_url(re.compile(r"/campaigns/\d+/edit$"))
    expect(page.get_by_text("Draft", exact=True)).to_be_visible()
    campaign_id = int(re.search(r"/campaigns/(\d+)/edit", page.url).group(1))  # type: ignore[union-attr]

    page.get_by_role("button", name="Publish").click()
    dialog = page.get_by_role("dialog", name=re.compile("Publish"))
    expect(dialog).to_be_visible()
    summary = dialog.get_by_test_id("publish-summary")
    expect(summary).to_contain_text("3 contacts enter now")
    expect(summary).to_contain_text("live audience")
    _shot(page, "publish")
    dialog.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("Published", exact=True)).to_be_visible()

    # Run a week ahead: the condition splits 2 Paris / 1 Lyon, the Lyon contact's decision
    # expires after 2 days and takes the no path.
    _trigger(trellis_server, datetime.now(UTC) + timedelta(minutes=1), campaign_id)
    _trigger(trellis_server, datetime.now(UTC) + timedelta(days=7), campaign_id)

    watch = page.get_by_role("region", name="Campaign canvas (read only)")
    expect(watch).to_be_visible()
    expect(_node(page, "Lives in Paris?").locator('[data-count="yes"]')).to_contain_text(
        "2", timeout=20_000
    )
    expect(_node(page, "Lives in Paris?").locator('[data-count="no"]')).to_contain_text("1")
    expect(_node(page, "Score Parisians").locator('[data-count="done"]')).to_have_text("2")
    expect(_node(page, "Starts a trial?").locator('[data-count="no"]')).to_contain_text("1")
    expect(_node(page, "Tag the undecided").locator('[data-count="done"]')).to_have_text("1")
    expect(page.locator(".react-flow__node-sources [data-count='entered']")).to_have_text(
        "3 entered"
    )
    _shot(page, "watch")

    client = api_client(base_url)
    try:
        stats = client.get(f"/api/v2/campaigns/{campaign_id}/stats").json()
    finally:
        client.close()
    assert sum(s["done"] for s in stats.values()) >= 3


def test_server_validation_shows_on_the_node_and_the_field(page: Page) -> None:
    log_in(page)
    page.goto("/campaigns/new")
    canvas = _canvas(page)
    # Keyboard only: select the sources node, then add a step from the palette with Enter.
    sources = page.locator(".react-flow__node-sources")
    sources.focus()
    page.keyboard.press("Enter")
    palette = page.get_by_role("complementary", name="Steps palette")
    palette.get_by_role("searchbox").fill("points")
    palette.locator('button[data-step-type="contact.change_points"]').press("Enter")
    step = _node(page, "Change points")
    expect(step).to_be_visible()
    expect(canvas.locator(".react-flow__edge")).to_have_count(1)

    page.get_by_role("button", name="Validate").click()
    expect(page.get_by_text("The campaign has problems")).to_be_visible()
    # The server's pointer /events/0/config/delta lands on the node and on the Delta field.
    expect(step.get_by_test_id("node-problems")).to_be_visible()
    panel = page.get_by_role("complementary", name="Step settings")
    expect(panel.get_by_text(re.compile("Field required", re.I))).to_be_visible()
    panel.get_by_label("Delta").fill("3")
    expect(step.get_by_test_id("node-problems")).to_have_count(0)

    # The "+" under an output offers only what may follow there, and connects the new step.
    step.hover()
    step.get_by_role("button", name="Add a step after Change points, output").click()
    menu = canvas.get_by_role("dialog", name="Add a step here")
    menu.get_by_role("searchbox").fill("tags")
    expect(menu.locator('button[data-step-type="contact.tags"]')).to_be_visible()
    menu.locator('button[data-step-type="contact.change_tags"]').click()
    expect(_node(page, "Change tags")).to_be_visible()
    expect(canvas.locator(".react-flow__edge")).to_have_count(2)

    # Copy and paste: the copy gets new keys and no incoming edge; undo takes it back.
    _node(page, "Change points").click(position={"x": 20, "y": 10})
    page.keyboard.press("Control+c")
    page.keyboard.press("Control+v")
    expect(_node(page, "Change points")).to_have_count(2)
    expect(canvas.locator(".react-flow__edge")).to_have_count(2)
    page.keyboard.press("Control+z")
    expect(_node(page, "Change points")).to_have_count(1)


@pytest.mark.timeout(600)
def test_removing_a_step_contacts_wait_on_offers_to_redirect_them(
    page: Page, base_url: str, trellis_server: Server
) -> None:
    tag = f"r{secrets.token_hex(3)}"
    client = api_client(base_url)
    try:
        for i in range(2):
            response = client.post(
                "/api/v2/contacts", json={"email": f"{tag}-{i}@example.com", "last_name": tag}
            )
            assert response.status_code == 201, response.text
        response = client.post(
            "/api/v2/segments",
            json={
                "name": f"Waiting {tag}",
                "filters": {
                    "match": "all",
                    "conditions": [
                        {"type": "field", "field": "last_name", "operator": "=", "value": tag}
                    ],
                },
            },
        )
        assert response.status_code == 201, response.text
        segment_id = response.json()["id"]
        rebuilt = client.post(f"/api/v2/segments/{segment_id}/rebuild")
        assert rebuilt.status_code < 300, rebuilt.text
        response = client.post(
            "/api/v2/campaigns",
            json={
                "name": f"Redirect {tag}",
                "sources": [{"kind": "segment", "id": segment_id}],
                "events": [
                    {
                        "key": "now",
                        "type": "contact.change_tags",
                        "name": "Tag now",
                        "config": {"add": [tag]},
                    },
                    {
                        "key": "later",
                        "type": "contact.change_points",
                        "name": "Score later",
                        "config": {"delta": 1},
                        "timing": {"mode": "interval", "amount": 5, "unit": "day"},
                    },
                    {
                        "key": "after",
                        "type": "contact.change_points",
                        "name": "Score after",
                        "config": {"delta": 2},
                    },
                ],
                "edges": [
                    {"source": None, "target": "now"},
                    {"source": "now", "target": "later"},
                    {"source": "later", "target": "after"},
                ],
            },
        )
        assert response.status_code == 201, response.text
        campaign_id = response.json()["id"]
        assert client.post(f"/api/v2/campaigns/{campaign_id}/publish").status_code == 200
        _trigger(trellis_server, datetime.now(UTC) + timedelta(minutes=1), campaign_id)
        stats = client.get(f"/api/v2/campaigns/{campaign_id}/stats").json()
        assert stats["later"]["scheduled"] == 2, stats
    finally:
        client.close()

    log_in(page)
    page.goto(f"/campaigns/{campaign_id}/edit")
    later = _node(page, "Score later")
    later.click(position={"x": 20, "y": 10})
    page.keyboard.press("Delete")
    expect(later).to_have_count(0)
    after = _node(page, "Score after")
    expect(after).to_contain_text("This step is not connected to anything.")
    _tidy(page)
    _connect(page, _node(page, "Tag now"), "out", after)
    expect(after).not_to_contain_text("not connected")
    page.get_by_role("button", name="Save changes").click()
    dialog = page.get_by_role("dialog", name="Contacts are waiting on steps you removed")
    expect(dialog).to_be_visible()
    choice = dialog.get_by_label("Score later: 2 contacts wait here")
    choice.select_option(label="Continue at: Score after")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_text("Campaign saved")).to_be_visible()

    _trigger(trellis_server, datetime.now(UTC) + timedelta(minutes=2), campaign_id)
    client = api_client(base_url)
    try:
        stats = client.get(f"/api/v2/campaigns/{campaign_id}/stats").json()
        campaign = client.get(f"/api/v2/campaigns/{campaign_id}").json()
    finally:
        client.close()
    assert [e["key"] for e in campaign["events"]] == ["now", "after"]
    assert "later" not in stats
    assert stats["after"]["done"] + stats["after"]["scheduled"] == 2, stats


@pytest.mark.timeout(300)
def test_email_steps_pick_emails_by_name_and_create_one(
    page: Page, base_url: str, browser: object
) -> None:
    """ "Send email" and "Clicks email link" ask for the email by name, the node names it,
    the click decision offers the email's links, and "New email" creates one in another tab
    that comes back selected. No id is typed anywhere."""
    tag = f"p{secrets.token_hex(3)}"
    client = api_client(base_url)
    try:
        response = client.post(
            "/api/v2/emails",
            json={
                "name": f"Welcome {tag}",
                "subject": f"Hello from {tag}",
                "body_format": "html",
                "body": '<p>Hi <a href="https://shop.example.com/offer">the offer</a></p>',
            },
        )
        assert response.status_code == 201, response.text
    finally:
        client.close()

    page.set_viewport_size({"width": 1280, "height": 720})
    log_in(page)
    page.goto("/campaigns/new")
    canvas = _canvas(page)
    expect(canvas).to_be_visible()
    sources = page.locator(".react-flow__node-sources")
    sources.focus()
    page.keyboard.press("Enter")
    palette = page.get_by_role("complementary", name="Steps palette")
    palette.get_by_role("searchbox").fill("send email")
    palette.locator('button[data-step-type="email.send"]').press("Enter")
    send = _node(page, "Send email")
    expect(send).to_be_visible()

    panel = page.get_by_role("complementary", name="Step settings")
    picker = panel.get_by_role("combobox", name="Email", exact=True)
    picker.fill(tag)
    option = page.get_by_role("option", name=re.compile(f"Welcome {tag}"))
    expect(option).to_contain_text(f"Subject: Hello from {tag}")
    option.click()
    expect(send.locator(".trellis-node__uses")).to_contain_text(f"Welcome {tag}")

    # The click decision after it: the same email by name, then one of its links.
    send.hover()
    send.get_by_role("button", name=re.compile("Add a step after Send email")).click()
    menu = canvas.get_by_role("dialog", name="Add a step here")
    menu.get_by_role("searchbox").fill("clicks")
    menu.locator('button[data-step-type="email.click"]').click()
    clicked = _node(page, "Clicks email link")
    expect(clicked).to_be_visible()
    clicked.click(position={"x": 20, "y": 10})
    panel.get_by_role("combobox", name=re.compile("^Email")).fill(tag)
    page.get_by_role("option", name=re.compile(f"Welcome {tag}")).click()
    panel.get_by_role("combobox", name=re.compile("^Links")).click()
    link = page.get_by_role("option", name=re.compile(r"shop\.example\.com.offer"))
    expect(link).to_be_visible()
    link.click()
    page.keyboard.press("Escape")
    expect(clicked.locator(".trellis-node__uses")).to_contain_text(f"Welcome {tag}")

    # "New email" opens the editor in a new tab; saving there selects the new email here.
    send.click(position={"x": 20, "y": 10})
    with page.context.expect_page() as opened:
        panel.get_by_role("button", name="New email").click()
    editor = opened.value
    editor.get_by_label("Name", exact=True).fill(f"Follow-up {tag}")
    editor.get_by_label("Subject", exact=True).fill("Still there?")
    editor.get_by_role("button", name="Create email").click()
    expect(editor).to_have_url(re.compile(r"/emails/\d+$"))
    editor.close()
    expect(send.locator(".trellis-node__uses")).to_contain_text(f"Follow-up {tag}")
    expect(panel.get_by_role("combobox", name="Email", exact=True)).to_have_value(
        f"Follow-up {tag}"
    )
