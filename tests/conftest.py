# --- bot fixtures (tests/bot_fixtures.py): real index, fake Bot API, the bot running against it ---
from bot_fixtures import (  # noqa: F401
    analyzer,
    bot_settings,
    corpus_index,
    fake_api,
    start_bot,
    token_in_no_log_line,
)
# --- end of bot fixtures ---
