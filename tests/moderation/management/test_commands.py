"""Every `manage.py` command of ours starts: `--help` answers with its options, exit 0."""

import pytest
from django.core.management import get_commands, load_command_class

from tests.tiny import REPO

OURS = sorted(name for name, app in get_commands().items() if app == "moderation")


def test_every_command_of_ours_is_found():
    found = {path.stem for path in (REPO / "moderation" / "management" / "commands").glob("[!_]*.py")}
    assert set(OURS) == found


@pytest.mark.parametrize("name", OURS)
def test_help_answers_for(name, capsys):
    command = load_command_class("moderation", name)
    with pytest.raises(SystemExit) as exit_:  # argparse exits after printing the help
        command.run_from_argv(["manage.py", name, "--help"])
    assert exit_.value.code == 0
    assert "usage: manage.py" in capsys.readouterr().out


def test_recalibrate_names_its_version_option_apart_from_djangos():
    parser = load_command_class("moderation", "recalibrate").create_parser("manage.py", "recalibrate")
    assert parser.parse_args(["--model-version", "v3"]).model_version == "v3"
