# --- bot fixtures (tests/bot_fixtures.py): real index, fake Bot API, the bot running against it ---
from bot_fixtures import analyzer, bot_settings, corpus_index, fake_api, start_bot  # noqa: F401
# --- end of bot fixtures ---
