"""End to end in real Chromium with a real Celery worker: an admin retrains, watches the run,
looks at the plots, compares, promotes (the API scores with the new version at once), rolls
back, and tries thresholds in the simulator."""

import json
import re
import urllib.request

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from moderation.models import ModelVersion, TrainingRun
from moderation.services import api_key_create
from tests.factories import PASSWORD, AdminFactory, ApiClientFactory, install_version
from tests.tiny import DEMO_CSV

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
TINY = {
    "vocab_size": 1500,
    "scratch_hidden": 32,
    "scratch_layers": 1,
    "scratch_heads": 2,
    "scratch_intermediate": 64,
    "baseline": False,
    "num_threads": 1,
    "augment": False,
}


def api_scores_with(base_url: str, raw_key: str, text: str) -> str:
    request = urllib.request.Request(
        f"{base_url}/api/v1/comments/",
        data=json.dumps({"text": text}).encode(),
        headers={"Authorization": f"Api-Key {raw_key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["model_version"]


def test_an_admin_retrains_compares_promotes_and_rolls_back(
    browser, live_server, celery_worker, trained_artifact, settings, screenshots
):
    settings.TOXISCOPE_ARTIFACTS_DIR = celery_worker.artifacts_dir  # where the worker writes
    # This test is about the flow, the gate has its own tests: only the share rerouted fails it here.
    settings.TOXISCOPE_PROMOTION_MARGIN = settings.TOXISCOPE_PROMOTION_LABEL_MARGIN = 1.0
    settings.TOXISCOPE_PROMOTION_MAX_REROUTE = 0.0
    call_command("import_comments", str(DEMO_CSV), "--source", "demo", "--no-progress")
    first = install_version(trained_artifact, celery_worker.artifacts_dir, "first-active")
    raw_key = api_key_create(user=ApiClientFactory(), name="browser")[1]
    admin = AdminFactory(username="ada")
    page: Page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", admin.username)
    page.fill("#id_password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/review/$"))

    page.get_by_role("link", name="Models").click()
    expect(page.locator("#versions")).to_contain_text("first-active")
    page.get_by_role("link", name="Retrain…").click()
    # Blank settings show the base model's preset, and follow a change of base model.
    page.fill("#id_base_model", "minilm")
    page.locator("#id_base_model").press("Tab")
    expect(page.locator("#id_lr")).to_have_attribute("placeholder", "0.0001")
    page.fill("#id_base_model", "scratch")
    page.locator("#id_base_model").press("Tab")
    expect(page.locator("#id_lr")).to_have_attribute("placeholder", "0.0005")
    # Each data box sits on its name's line.
    box, label = page.locator("#id_origins_0").bounding_box(), page.locator("label[for=id_origins_0]").bounding_box()
    assert abs((box["y"] + box["height"] / 2) - (label["y"] + label["height"] / 2)) < 3
    page.fill("#id_max_epochs", "2")
    page.fill("#id_lr", "0.003")
    page.fill("#id_max_len", "64")
    page.fill("#id_advanced", json.dumps(TINY))
    page.get_by_role("button", name="Start training").click()

    # The progress bar updates without a reload until the worker is done.
    page.wait_for_url(re.compile(r"/models/runs/\d+/$"))
    expect(page.locator("[data-status]")).to_have_text("succeeded", timeout=120_000)
    expect(page.locator("[data-percent]")).to_have_text("100.0 %")
    run = TrainingRun.objects.get()
    new = run.model_version
    page.screenshot(path=screenshots / "training-run.png", full_page=True)

    page.get_by_role("link", name=f"See {new.name} →").click()
    for plot in page.locator("img.plot").all():
        # Each plot is drawn when asked for (matplotlib, on a busy CI machine: seconds).
        expect(plot).to_have_js_property("complete", True, timeout=60_000)
        assert plot.evaluate("img => img.naturalWidth") > 0
    page.screenshot(path=screenshots / "model-version.png", full_page=True)

    page.get_by_role("link", name=re.compile("Compare with first-active")).click()
    expect(page.locator("#comparison")).to_be_visible()
    expect(page.get_by_text("Routes that would change")).to_be_visible()
    # Two epochs on the demo set: the gate names what falls short; promoting takes a reason.
    expect(page.locator("#gate-failures")).to_contain_text("would be routed differently")
    page.get_by_role("button", name=f"Promote {new.name}").click()
    expect(page.locator(".flash")).to_contain_text("is worse than the active version")
    page.locator('input[name="override"]').check()
    page.fill('[name="reason"]', "the browser test's own candidate")
    page.get_by_role("button", name=f"Promote {new.name}").click()
    expect(page.locator(".flash")).to_contain_text("is now the active version")
    assert api_scores_with(live_server.url, raw_key, "you absolute idiot") == new.name

    # A rollback asks first: dismissed, nothing changes; accepted, it happens.
    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Roll back to first-active").click()
    expect(page.get_by_role("button", name="Roll back to first-active")).to_be_visible()
    assert questions == ["Roll back to first-active? Every server scores with it within seconds."]
    assert ModelVersion.objects.get(status="active") == new
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Roll back to first-active").click()
    expect(page.locator(".flash")).to_contain_text("first-active is now the active version")
    assert ModelVersion.objects.get(status="active") == first
    assert api_scores_with(live_server.url, raw_key, "you absolute idiot again") == "first-active"

    page.goto(f"{live_server.url}/models/")
    page.screenshot(path=screenshots / "models.png", full_page=True)

    page.goto(f"{live_server.url}/models/{new.pk}/simulate/?label=toxic")
    page.locator("input[name=review]").fill("0.3")
    expect(page.locator("#simulation h2")).to_contain_text("review at 0.30")
    expect(page.locator("[data-precision]")).not_to_have_text("")
    page.screenshot(path=screenshots / "threshold-simulator.png", full_page=True)
