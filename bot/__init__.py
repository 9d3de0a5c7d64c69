"""The Telegram side of reports-bot: settings, handlers, rendering and the command line."""
