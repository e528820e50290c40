"""The configuration file: the shipped one is valid; a bad one names the field and problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings

ROOT = Path(__file__).resolve().parent.parent


def test_shipped_config_describes_the_demo_commune() -> None:
    settings = load_settings(ROOT / "config.toml")
    commune = settings.communes[0]
    assert len(commune.hamlets) == 12
    assert commune.timezone == "Asia/Ho_Chi_Minh"
    assert commune.targets.level2_registration == 0.85
    assert commune.targets.activation == 0.90


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD_HAMLET = 'code = "A1"\nname = "Thôn 1"\nhouseholds = 10\neligible_citizens = 20\n'


@pytest.mark.parametrize(("body", "expected"), [
    (f'[[communes]]\ncode = "C"\nname = "X"\ntimezone = "Mars/Base"\n'
     f'[[communes.hamlets]]\n{GOOD_HAMLET}', "communes[0 'C'].timezone"),
    ('[[communes]]\ncode = "C"\nname = "X"\n[[communes.hamlets]]\ncode = "A1"\nname = "T"\n'
     'households = -3\neligible_citizens = 20\n', "communes[0 'C'].hamlets[0 'A1'].households"),
    (f'[[communes]]\ncode = "C"\nname = "X"\n[communes.targets]\nactivation = 1.5\n'
     f'[[communes.hamlets]]\n{GOOD_HAMLET}', "communes[0 'C'].targets.activation"),
    (f'[bot]\ndefault_language = "fr"\n[[communes]]\ncode = "C"\nname = "X"\n'
     f'[[communes.hamlets]]\n{GOOD_HAMLET}', "bot.default_language"),
    (f'[[communes]]\ncode = "C"\nname = "X"\nhamlet = 1\n[[communes.hamlets]]\n{GOOD_HAMLET}',
     "communes[0 'C'].hamlet"),
    # A commune needs its hamlets (a configuration with no commune at all is a national one:
    # its communes are imported, tests/test_places.py).
    ('[[communes]]\ncode = "C"\nname = "X"\n', "communes[0 'C'].hamlets"),
])
def test_bad_config_names_the_field(tmp_path: Path, body: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(_write(tmp_path, body))
    assert expected in str(caught.value)


def test_duplicate_hamlet_codes_are_refused(tmp_path: Path) -> None:
    body = (f'[[communes]]\ncode = "C"\nname = "X"\n[[communes.hamlets]]\n{GOOD_HAMLET}'
            f'[[communes.hamlets]]\n{GOOD_HAMLET}')
    with pytest.raises(ConfigError, match="A1"):
        load_settings(_write(tmp_path, body))


def test_not_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(_write(tmp_path, "[[communes]\n"))
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "absent.toml")


def test_database_path_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(ROOT / "config.toml")
    monkeypatch.setenv("BOT_DATABASE", "/tmp/elsewhere.sqlite3")
    assert settings.database_path == "/tmp/elsewhere.sqlite3"
