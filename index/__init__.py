"""Reading reports, analysing their sentences and answering questions with a BM25 index.

Nothing here knows about Telegram: the bot and the CLI render what this package returns.
"""
