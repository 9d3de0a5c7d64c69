"""Reading reports: finding the files, decoding and cleaning their text, their metadata and
the overrides of it, and cutting the text into the sentences that are indexed and shown."""
