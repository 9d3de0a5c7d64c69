"""Text as terms: folding scripts and widths, segmenting with jieba, and reading a question for
its terms, its words and what it asks for. Reports and questions go through the same analyzer."""
