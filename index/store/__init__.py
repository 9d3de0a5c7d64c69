"""What a build keeps on disk: the versioned index files, the table of displayed sentences, and
the cache of each report's analysis."""
